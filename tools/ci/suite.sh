#!/usr/bin/env bash
# Every test file, as `npm test` runs them, in two ava runs:
#  - tests/unit, two files at a time: they share nothing on the host (no libvirt
#    domain, hugepage, lab or engine state), so the second core shortens them;
#  - every other folder, one file at a time (package.json's ava concurrency: 1):
#    they boot guests, reserve hugepages and run the engine on this one host.
# Both always run, so one failing unit test never hides the real-parts results;
# the exit status is the first failure's. tests/unit/suite.test.ts checks that
# REAL_PARTS names every other folder that holds tests, so none is left out.
set -uo pipefail
cd "$(dirname "$0")/../.."
REAL_PARTS=(tests/provider tests/host tests/image tests/e2e tests/kat tests/browser tests/lab tests/rthost)
ava tests/unit --concurrency 2
unit=$?
ava "${REAL_PARTS[@]}"
real=$?
if [ "$unit" -ne 0 ]; then exit "$unit"; fi
exit "$real"
