/**
 * SIGINT and SIGTERM during a probe run: the first one ends the run early
 * and keeps what was measured (the runner stops the tools in the guests and
 * marks the results partial, see LongRunOptions); a second one exits at once.
 * Used by `npm run probe` and by the provider's ProbeSuite while it probes.
 */

export interface Interruption {
    /** Aborted on the first signal, with the reason `interrupted by SIGINT` (or SIGTERM). */
    signal: AbortSignal;
    /** The shell's exit code for the signal that came (130 for SIGINT, 143 for SIGTERM); null when none came. */
    exitCode(): number | null;
    /** Removes the handlers: the default behaviour (exit) is back. */
    dispose(): void;
}

const SIGNALS = { SIGINT: 2, SIGTERM: 15 } as const;

/** Installs the handlers; `log` says what happens, so an operator knows the run is stopping and not hung. */
export function onInterrupt(log: (line: string) => void): Interruption {
    const controller = new AbortController();
    let received: keyof typeof SIGNALS | null = null;
    const handlers = Object.keys(SIGNALS).map((name) => {
        const sig = name as keyof typeof SIGNALS;
        const handler = () => {
            if (received !== null) {
                log(`${sig} again: exiting without waiting for the tools; the guests' tools end on their own duration`);
                process.exit(128 + SIGNALS[sig]);
            }
            received = sig;
            log(`${sig}: stopping the probes and keeping what they measured so far (send it again to exit at once)`);
            controller.abort(`interrupted by ${sig}`);
        };
        process.on(sig, handler);
        return () => process.off(sig, handler);
    });
    return {
        signal: controller.signal,
        exitCode: () => (received === null ? null : 128 + SIGNALS[received]),
        dispose: () => handlers.forEach((off) => off()),
    };
}
