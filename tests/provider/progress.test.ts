/**
 * Long steps show progress: the nfvkit provider, as the engine calls it,
 * against real libvirt and a real guest that never gets ready (its ready line
 * is not the one the guest prints). Until the boot timeout, a line about the
 * domain's resource says at least every 10 s that it is still booting and
 * what it waits for;
 * then the create fails with the console's last lines and removes the domain.
 */
import test from "ava";
import { ensureGuestImage } from "../../guest-images/build";
import { makeNfvkitProvider } from "../../components/provider/provider";
import { domainsWithPrefix, removeDomainsWithPrefix } from "../helpers/host";
import { domainInputs, PROVIDER_TEST_PREFIX } from "../helpers/domainInputs";

const urn = "urn:pulumi:test::nfv-testpod::nfvkit:guest:NfvGuest$nfvkit:libvirt:Domain::g1-domain";
/** The longest a person should wait for a sign of life. */
const MAX_SILENCE_MS = 10_000;

test.serial("a guest that never gets ready: a progress line at least every 10 s until the boot timeout, then a clear failure", async (t) => {
    t.teardown(() => removeDomainsWithPrefix(PROVIDER_TEST_PREFIX));
    const image = await ensureGuestImage();
    const inputs = { ...(await domainInputs(image, 0)), readyPattern: "NFVKIT-NEVER-PRINTED", bootTimeoutSec: 22 };
    const lines: { at: number; urn: string; line: string }[] = [];
    // What the plugin hands to the engine's Log call, about the resource: the engine shows it on that resource's row.
    const provider = makeNfvkitProvider((about, line) => lines.push({ at: Date.now(), urn: about, line }));

    const started = Date.now();
    const err = await t.throwsAsync(provider.create!(urn, inputs));
    const ended = Date.now();
    t.regex(err!.message, /no "NFVKIT-NEVER-PRINTED" line in \S+ within 22 s; the console's last lines:/);
    t.deepEqual(await domainsWithPrefix(PROVIDER_TEST_PREFIX), [], "the domain that never got ready was removed");

    t.log(lines.map((l) => `+${((l.at - started) / 1000).toFixed(1)} s ${l.line}`).join("\n"));
    const times = [started, ...lines.map((l) => l.at), ended];
    const gaps = times.slice(1).map((at, i) => at - times[i]);
    t.true(Math.max(...gaps) <= MAX_SILENCE_MS, `silences between progress lines (ms): ${gaps.join(", ")}`);
    // Two intervals: the line comes again, not once.
    t.true(lines.length >= 2, `a 22 s wait gives at least 2 lines, got ${lines.length}`);
    // Each line is about the resource and says what it waits for.
    for (const l of lines) t.is(l.urn, urn);
    for (const { line } of lines.filter((l) => l.at - started > MAX_SILENCE_MS)) {
        t.regex(line, /^still booting \(waiting for the ready line on its console \S+; timeout 22 s\), \d+ s so far$/);
    }
});
