/**
 * Entry point of the nfvkit provider plugin: serves the engine's gRPC
 * provider protocol with the Node SDK's provider server. Started by
 * tools/provider/pulumi-resource-nfvkit.
 */
import * as net from "node:net";
import { main } from "@pulumi/pulumi/provider";
import { engineAddressOf, engineResourceLog } from "./engineLog";
import { makeNfvkitProvider } from "./provider";
import { recordSpan } from "../timing";

/**
 * Exits once the engine that started us is gone. A CLI killed with SIGKILL
 * cannot stop its plugins, and the gRPC server would keep this process alive
 * for ever; the engine's death shows as a new parent (init or a subreaper).
 * The parent read at start is the engine only if the engine was alive then: a
 * kill during this plugin's start (Node's start is most of a second) leaves it
 * init's child from the start, so a changed parent never shows. So the engine
 * is also asked once where it listens, and an address that refuses
 * connections means it is gone already (the language host does the same).
 */
function exitWithEngine(address: string | undefined): void {
    const engine = process.ppid;
    const stop = () => {
        process.stderr.write(`nfvkit provider: the engine (pid ${engine}) is gone; stopping\n`);
        process.exit(1);
    };
    setInterval(() => {
        if (process.ppid !== engine) stop();
    }, 500).unref();
    const [, host, port] = /^(.*):(\d+)$/.exec(address ?? "") ?? [];
    if (host && port) {
        const probe = net.connect({ host: host.replace(/^\[|\]$/g, ""), port: Number(port) });
        let answered = false;
        probe.on("connect", () => {
            answered = true;
            probe.destroy();
        });
        // Only a refusal says the engine is gone; anything else (a reset after it answered) says nothing.
        probe.on("error", (err: NodeJS.ErrnoException) => {
            if (!answered && err.code === "ECONNREFUSED") stop();
        });
        probe.unref();
    }
}

// From the process's start to serving: Node.js, the SDK's provider server and the kit's bundle loading.
recordSpan("plugin: Node.js start, module load", "", Math.round(performance.timeOrigin));
const args = process.argv.slice(2);
const engine = engineAddressOf(args);
exitWithEngine(engine);
void main(makeNfvkitProvider(engine ? engineResourceLog(engine) : undefined), args);
