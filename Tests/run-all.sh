#!/usr/bin/env bash
# The whole test suite: the Swift tests, then the tests that drive crowdlab from outside as other
# programs would (the AWS SDK for Python against `crowdlab turk serve`, the annotation page in
# headless Chromium, a sweep on a single-node Slurm started for the purpose), then the input
# readers under libFuzzer for a few seconds each (Tests/Fuzz/run.sh). Installs the Python packages,
# Chromium, Slurm and munge when they are missing. Ends with one line, `N passed, N failed`, over
# all of them; exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
python3 -c "import boto3, websocket" 2>/dev/null || python3 -m pip install -q boto3 websocket-client || exit 1
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || {
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null; } || exit 1
logs=$(mktemp -d)
status=0
swift test 2>&1 | tee "$logs/swift.txt" || status=1
if swift build --product crowdlab; then
  python3 Tests/External/boto3_marketplace.py .build/debug/crowdlab 2>&1 | tee "$logs/boto3.txt" || status=1
  python3 Tests/External/browser_annotation_page.py .build/debug/crowdlab 2>&1 | tee "$logs/browser.txt" || status=1
  Tests/External/slurm_sweep.sh .build/debug/crowdlab 2>&1 | tee "$logs/slurm.txt" || status=1
else
  status=1
fi
# The input readers under libFuzzer, briefly (Tests/Fuzz/run.sh SECONDS for longer runs).
Tests/Fuzz/run.sh "${FUZZ_SECONDS:-5}" 2>&1 | tee "$logs/fuzz.txt" || status=1
# Totals: one line per XCTest case ("Test Case '…' passed/failed") and per Swift Testing test
# ("✔ Test … passed", "✘ Test … failed"), so a crash that cuts the run short still counts what ran;
# each Python run's "Ran N tests" with its FAILED counts.
passed=$(grep -cE "^Test Case '.*' passed" "$logs/swift.txt" || true)
failed=$(grep -cE "^Test Case '.*' failed" "$logs/swift.txt" || true)
passed=$((passed + $(grep -E "^✔ Test .* passed" "$logs/swift.txt" | grep -vcE "^✔ Test run with" || true)))
failed=$((failed + $(grep -E "^✘ Test .* failed" "$logs/swift.txt" | grep -vcE "^✘ Test run with" || true)))
for log in "$logs/boto3.txt" "$logs/browser.txt" "$logs/slurm.txt"; do
  [ -f "$log" ] || continue
  n=$(grep -oE "^Ran [0-9]+ tests?" "$log" | grep -oE "[0-9]+" | tail -1); n=${n:-0}
  f=0; for k in $(grep -oE "(failures|errors)=[0-9]+" "$log" | grep -oE "[0-9]+"); do f=$((f + k)); done
  passed=$((passed + n - f)); failed=$((failed + f))
done
# Each fuzz target counts as one test: failed when it crashed.
if f=$(grep -E "^fuzz: [0-9]+ targets" "$logs/fuzz.txt"); then
  t=$(echo "$f" | grep -oE "[0-9]+ targets" | grep -oE "[0-9]+"); c=$(grep -cE "^[a-z]+: [0-9]+ executions, [1-9][0-9]* crashes" "$logs/fuzz.txt" || true)
  passed=$((passed + t - c)); failed=$((failed + c))
fi
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1   # a step that failed without counting a test (a build)
rm -rf "$logs"
echo "$passed passed, $failed failed"
exit $status
