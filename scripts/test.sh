#!/usr/bin/env bash
# Sets up (scripts/setup.sh), then runs every test: unit tests and, as root, the integration
# tests in throwaway network namespaces. Ends with a plain "N passed, N failed, N skipped" line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
log=$(mktemp)
npx ava --tap "$@" | tee "$log"
status=${PIPESTATUS[0]}
count() { grep -E "^# $1 [0-9]+" "$log" | tail -1 | awk '{print $3}'; }
passed=$(count pass); failed=$(count fail); skipped=$(count skip)
rm -f "$log"
if [ -z "$passed" ]; then passed=0; failed=${failed:-1}; fi
echo "${passed} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
