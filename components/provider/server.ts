/**
 * Entry point of the nfvkit provider plugin: serves the engine's gRPC
 * provider protocol with the Node SDK's provider server. Started by
 * tools/provider/pulumi-resource-nfvkit.
 */
import { main } from "@pulumi/pulumi/provider";
import { engineAddressOf, engineResourceLog } from "./engineLog";
import { makeNfvkitProvider } from "./provider";

/**
 * Exits once the engine that started us is gone. A CLI killed with SIGKILL
 * cannot stop its plugins, and the gRPC server would keep this process alive
 * for ever; the engine's death shows as a new parent (init or a subreaper).
 */
function exitWithEngine(): void {
    const engine = process.ppid;
    setInterval(() => {
        if (process.ppid !== engine) {
            process.stderr.write(`nfvkit provider: the engine (pid ${engine}) is gone; stopping\n`);
            process.exit(1);
        }
    }, 500).unref();
}

exitWithEngine();
const args = process.argv.slice(2);
const engine = engineAddressOf(args);
void main(makeNfvkitProvider(engine ? engineResourceLog(engine) : undefined), args);
