#!/usr/bin/env bash
# The whole test suite N times in a row (default 5) while a CPU hog keeps every core busy: a flaky test shows
# up here long before it blocks a CI run on a busy machine.
#
#   tests/stress.sh [RUNS] [-- PYTEST_ARGS...]      e.g. tests/stress.sh 5 > stress.log 2>&1 &
#
# The hog is one busy loop per core at normal priority (so the tests get about half the machine), started
# before the first run and ended, with everything it started, when the script exits for any reason.
# Each run's pytest output goes to .stress/run-K.log; one line per run and a summary go to stdout.
# Exit status: 0 when every run passed, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=5
if [ $# -gt 0 ] && [ "$1" != "--" ]; then runs=$1; shift; fi
[ "${1:-}" = "--" ] && shift
py=.venv/bin/python
[ -x "$py" ] || { echo "stress: run ./scripts/bootstrap (or make setup) first" >&2; exit 2; }

hogs=()
test_pid=""
stop_all() {
  # pytest gets SIGINT, so its fixtures stop the daemons and simulators they started.
  if [ -n "$test_pid" ]; then kill -INT "$test_pid" 2>/dev/null; wait "$test_pid" 2>/dev/null; test_pid=""; fi
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
  hogs=()
}
trap stop_all EXIT
trap 'exit 130' INT TERM

cores=$(nproc)
for _ in $(seq "$cores"); do
  ( trap - EXIT INT TERM; while :; do :; done ) &
  hogs+=($!)
done
echo "stress: $runs runs of the suite beside $cores busy loops (pids ${hogs[*]})"

mkdir -p .stress
failed_runs=0
for k in $(seq "$runs"); do
  log=.stress/run-$k.log
  t0=$(date +%s)
  # A background job starts with SIGINT ignored (and a script started in the background cannot undo that):
  # pytest gets Python's handler back, so an interrupted run still stops what its fixtures started.
  "$py" -c 'import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); import pytest
sys.exit(pytest.main(sys.argv[1:]))' -q -p no:cacheprovider --ignore=tests/bench "$@" >"$log" 2>&1 &
  test_pid=$!
  wait "$test_pid"
  rc=$?
  test_pid=""
  t1=$(date +%s)
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s' "$log" | tail -1 | sed 's/=//g')
  failures=$(grep -E '^(FAILED|ERROR) tests/' "$log" | sed 's/ - .*//' | tr '\n' ' ')
  echo "run $k: exit $rc, $((t1 - t0)) s: ${summary:-no summary (see $log)} ${failures}"
  [ "$rc" -eq 0 ] || failed_runs=$((failed_runs + 1))
done
stop_all
echo "stress: $((runs - failed_runs)) of $runs runs passed"
[ "$failed_runs" -eq 0 ]
