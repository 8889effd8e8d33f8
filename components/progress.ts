/**
 * Progress of long steps. A guest's boot, an image copy, a host's reboot, a
 * probe run or a migration can each take minutes, and a terminal that says
 * nothing for that long looks hung. While a step runs, it says every
 * PROGRESS_EVERY_MS that it is still at work, and at what, unless it said
 * something itself in between. The provider wraps every resource operation
 * in one (its lines go to its stderr, which the engine shows while the step
 * runs); the probe pipeline wraps each run, for `pulumi up` and `npm run
 * probe` alike.
 */

/**
 * How long a step may stay silent before it says it is still at work.
 * Under 10 s, the most a person should wait for a sign of life, with room
 * for the line to travel through the engine to the terminal.
 */
export const PROGRESS_EVERY_MS = 8_000;

export interface Progress {
    /** Names what the work does now, for the next "still" line; says nothing by itself. */
    step(what: string): void;
    /** Says a line now; the next "still" line comes a whole interval after it. */
    say(line: string): void;
}

export interface ProgressOptions {
    /** Where lines go, one line per call, without its line break. */
    write: (line: string) => void;
    /** @default PROGRESS_EVERY_MS */
    everyMs?: number;
    /**
     * The "still" line, from the step and the seconds since it began.
     * @default `<subject>: still <step>, <N> s so far`
     */
    still?: (step: string, stepSeconds: number) => string;
}

/** A Progress that says nothing: for callers that were given none. */
export const silentProgress: Progress = { step: () => undefined, say: () => undefined };

/**
 * Runs `work` with a Progress for `subject` (e.g. a resource's name), whose
 * first step is `firstStep`. The timer never keeps the process alive, and it
 * stops when `work` settles, whether it succeeds or fails.
 */
export async function withProgress<T>(subject: string, firstStep: string, opts: ProgressOptions, work: (progress: Progress) => Promise<T>): Promise<T> {
    const everyMs = opts.everyMs ?? PROGRESS_EVERY_MS;
    const still = opts.still ?? ((step: string, seconds: number) => `${subject}: still ${step}, ${seconds} s so far`);
    let step = firstStep;
    let stepStarted = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
            arm();
            opts.write(still(step, Math.round((Date.now() - stepStarted) / 1000)));
        }, everyMs);
        timer.unref();
    };
    const progress: Progress = {
        step(what) {
            step = what;
            stepStarted = Date.now();
        },
        say(line) {
            // Re-armed before the line goes out: when the line feeds an outer Progress (the probe pipeline's, inside the
            // provider's), the inner timer, armed first, fires first, and its line keeps the outer one quiet.
            arm();
            opts.write(line);
        },
    };
    arm();
    try {
        return await work(progress);
    } finally {
        clearTimeout(timer);
    }
}

/** Lines on this process's stderr: what a provider plugin writes there, the engine shows while the step runs. */
export function writeToStderr(line: string): void {
    process.stderr.write(`${line}\n`);
}
