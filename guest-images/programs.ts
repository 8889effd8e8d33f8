/**
 * Our own C programs (recipe `programs:`), compiled with Debian's gcc as static
 * binaries: the guest image has no libc of its own to link against, and the
 * same binary runs on the host for the host-limit measurement.
 */
import * as path from "node:path";
import { run } from "./run";

/** Debian packages that compile them: the compiler and the static C library. */
export const COMPILER_PACKAGES = ["gcc", "libc6-dev"];

/**
 * The gcc command line. The source is named relative to `cwd` (guest-images/)
 * so no absolute path of a checkout lands in the binary, and the build id is
 * a hash of the content: equal sources give equal bytes (reproducible images).
 */
export function compileCommand(source: string, output: string): string[] {
    return ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-Wl,--build-id=sha1", "-o", output, source];
}

/** Compiles `source` (relative to `sourceDir`) into `output`. */
export async function compileProgram(sourceDir: string, source: string, output: string): Promise<void> {
    const [cmd, ...args] = compileCommand(source, path.resolve(output));
    await run(cmd, args, { cwd: sourceDir });
}
