/**
 * `npm run bench:validate`: how long `npm run validate` takes on a generated
 * 5 MB stack file with thousands of problems (the worst case), three
 * runs, against the same command on a 50 KB file run side by side, so the
 * figure is a ratio to the command's fixed cost as well as a time.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { bigStackFile } from "../../tests/helpers/bigSpec";
import { projectRoot } from "../cli/engine";
import { median } from "./report";

function timeValidate(file: string): number {
    const start = performance.now();
    try {
        execFileSync(path.join(projectRoot, "node_modules", ".bin", "tsx"), ["tools/cli/validate.ts", file, "--offline"], {
            cwd: projectRoot,
            stdio: "ignore",
            maxBuffer: 64 * 1024 * 1024,
        });
    } catch {
        // A spec with problems exits 1: that is the case being timed.
    }
    return (performance.now() - start) / 1000;
}

const dir = mkdtempSync(path.join(tmpdir(), "nfvkit-validate-bench-"));
const big = path.join(dir, "Pulumi.big.yaml");
const small = path.join(dir, "Pulumi.small.yaml");
writeFileSync(big, bigStackFile(5 * 1024 * 1024));
writeFileSync(small, bigStackFile(50 * 1024));
const bigRuns: number[] = [];
const smallRuns: number[] = [];
for (let i = 0; i < 3; i++) {
    smallRuns.push(timeValidate(small));
    bigRuns.push(timeValidate(big));
}
const b = median(bigRuns);
const s = median(smallRuns);
console.log(`validate, 50 KB: ${smallRuns.map((x) => x.toFixed(1)).join(", ")} s (median ${s.toFixed(1)} s)`);
console.log(`validate, 5 MB:  ${bigRuns.map((x) => x.toFixed(1)).join(", ")} s (median ${b.toFixed(1)} s)`);
console.log(`5 MB / 50 KB: ${(b / s).toFixed(2)}x for 100x the input; goal: 5 MB in under 10 s (${b < 10 ? "met" : "MISSED"})`);
