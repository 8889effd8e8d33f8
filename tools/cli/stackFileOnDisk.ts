/**
 * A stack file read from disk for the CLIs (validate, preview) within the
 * input limits. A file over the size cap is not read at all: its size is the
 * whole answer, and readStackFile reports it. Throws only when the file
 * cannot be read; each CLI says that in its own form.
 */
import { readFileSync, statSync } from "node:fs";
import { maxFileBytes, readStackFile, type StackFile } from "../../components/validate";

export function readStackFileAt(file: string): StackFile {
    const size = statSync(file).size;
    return readStackFile(size > maxFileBytes ? new Uint8Array(0) : readFileSync(file), size);
}
