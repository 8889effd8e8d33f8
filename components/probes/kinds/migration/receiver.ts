/**
 * The receiver's address when the stack does not set one (`receiver:`): the
 * source address this machine uses on its route to the host, as the kernel's
 * routing table gives it (`ip -j route get <address>`, its `prefsrc`). That
 * is the address a host sees this machine's SSH connection come from, so
 * QEMU's user-mode NIC on that host reaches it the same way. The receiver
 * runs on this machine (where `pulumi up` or `npm run probe` runs), so it is
 * read here, when the program builds the ProbeSuite's inputs.
 */
import { commandFailure, hostAccess } from "../../../host/access";

export async function receiverAddressToward(address: string): Promise<string> {
    const argv = ["ip", "-j", "route", "get", address];
    const route = await hostAccess({ kind: "local" }).run(argv, { nothrow: true, timeoutMs: 10_000 });
    let src: unknown;
    try {
        src = (JSON.parse(route.stdout) as { prefsrc?: string }[])[0]?.prefsrc;
    } catch {
        src = undefined;
    }
    if (route.exitCode !== 0 || typeof src !== "string" || src === "") {
        const failed = commandFailure("local", argv, route);
        throw failed.withFix(
            "set receiver: <this machine's address> in the migration entry",
            `gave no address of this machine that host ${address} reaches, which the migration probe's receiver needs (${failed.reason})`,
        );
    }
    return src;
}
