#!/usr/bin/env bash
# Every test file, as `npm test` runs them, in three ava runs:
#  - tests/unit, two files at a time: they share nothing on the host (no libvirt
#    domain, hugepage, lab or engine state), so the second core shortens them;
#  - REAL_PARTS, one file at a time (package.json's ava concurrency: 1): the
#    tests that reserve hugepages from this machine's pool and compare it before
#    and after, run the engine on local pods, or use the netns lab;
#  - BESIDE, one file at a time, beside both from the start: the tests that
#    touch none of that (the lab VM test, whose guest runs in the VM; the known
#    answers and the guest image on 4K-page guests of their own names; the HTML
#    report; the ssh tests' own sshd namespaces). The REAL_PARTS files leave
#    most of the second core idle (docs/testing.md). The run beside marks its
#    processes, and every process they start (the engine, its plugins,
#    ssh-agents), with NFVKIT_TEST_LANE=beside, so the other run's "quiet host"
#    and "nothing left" checks (tests/helpers/lane.ts) neither wait for them nor
#    count them, and never kill them; its lines come with "[beside] " before them.
#    The longest known-answer file could run in either: it runs here since the lab VM
#    test's nested guest boots with one vCPU and the image builds at the tests' own
#    priority (docs/testing.md), which made this run the shorter of the two.
# All three always run, so one failing run never hides the others' results; the
# exit status is the first failure's. tests/unit/suite.test.ts checks that every
# test file is in exactly one run, so none is left out.
set -uo pipefail
cd "$(dirname "$0")/../.."
REAL_PARTS=(tests/provider tests/e2e tests/lab tests/host/accessRotation.test.ts tests/host/validateOverSsh.test.ts)
BESIDE=(tests/browser tests/host/libvirt-over-ssh.test.ts tests/host/noUserSsh.test.ts tests/host/rtHostRead.test.ts tests/host/ssh-access.test.ts tests/host/ssh-no-key-on-disk.test.ts tests/image tests/kat/interVmStall.test.ts tests/kat/interrupted.test.ts tests/kat/knownAnswer.test.ts tests/kat/migrationKnownAnswer.test.ts tests/kat/probeHistory.test.ts tests/rthost)
# The run beside: its first line says when it started: the timing report (tools/ci/timing.ts) reckons its files' times from there.
(
  (
    echo "started beside the other tests: ${BESIDE[*]}"
    NFVKIT_TEST_LANE=beside ava "${BESIDE[@]}" 2>&1
  ) | sed -u 's/^/[beside] /'
) &
beside=$!
ava tests/unit --concurrency 2
unit=$?
ava "${REAL_PARTS[@]}"
real=$?
wait "$beside"
besides=$?
for status in "$unit" "$real" "$besides"; do
  if [ "$status" -ne 0 ]; then exit "$status"; fi
done
exit 0
