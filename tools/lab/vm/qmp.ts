/**
 * QEMU's machine protocol (QMP), as the lab VM needs it: one command on the
 * monitor socket QEMU was started with (`-qmp unix:<path>,server=on,wait=off`),
 * answered or refused. QMP is line-delimited JSON: a greeting, then
 * `qmp_capabilities`, then the command; events may come in between.
 */
import * as net from "node:net";

/** Sends one QMP command to the monitor at `socket`; resolves once QEMU answered it. */
export async function qmp(socket: string, command: string, timeoutMs = 10_000): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const conn = net.createConnection(socket);
        const timer = setTimeout(() => {
            conn.destroy();
            reject(new Error(`QEMU's monitor at ${socket} did not answer ${command} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        let buffered = "";
        let step = 0;
        conn.on("error", (err) => {
            clearTimeout(timer);
            reject(new Error(`QEMU's monitor at ${socket}: ${err.message}`));
        });
        // QEMU may close the monitor before its answer reaches us when the command ends it (quit).
        conn.on("close", () => {
            clearTimeout(timer);
            if (step === 2) resolve();
            else reject(new Error(`QEMU's monitor at ${socket} closed before ${command} was sent`));
        });
        conn.on("data", (chunk) => {
            buffered += chunk.toString("utf8");
            let newline: number;
            while ((newline = buffered.indexOf("\n")) >= 0) {
                const message = JSON.parse(buffered.slice(0, newline)) as { QMP?: unknown; return?: unknown; error?: { desc: string } };
                buffered = buffered.slice(newline + 1);
                if (message.error) {
                    clearTimeout(timer);
                    conn.destroy();
                    reject(new Error(`QEMU refused ${step === 1 ? "qmp_capabilities" : command}: ${message.error.desc}`));
                    return;
                }
                // The greeting, then the answer to qmp_capabilities, then the command's; events in between are skipped.
                if (message.QMP !== undefined && step === 0) {
                    step = 1;
                    conn.write('{"execute":"qmp_capabilities"}\n');
                } else if (message.return !== undefined && step === 1) {
                    step = 2;
                    conn.write(`${JSON.stringify({ execute: command })}\n`);
                } else if (message.return !== undefined && step === 2) {
                    clearTimeout(timer);
                    conn.end();
                    resolve();
                }
            }
        });
    });
}
