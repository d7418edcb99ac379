#!/bin/sh
# Is the suite flaky? Runs it N times in a row (default 20) while H busy loops keep the CPUs
# loaded (default 2, one per core of the project's machine), and stops at the first red run.
#   sh tests/repeat.sh [N [H]] [pytest arguments...]
# Each run's output is kept in ${TMPDIR:-/tmp}/maildaemon-repeat/run-K.txt.
set -u
cd "$(dirname "$0")/.."
runs=${1:-20}; [ $# -gt 0 ] && shift
hogs=${1:-2}; [ $# -gt 0 ] && shift
out="${TMPDIR:-/tmp}/maildaemon-repeat"
mkdir -p "$out"
pids=""
i=0
while [ "$i" -lt "$hogs" ]; do
    sh -c 'while :; do :; done' &
    pids="$pids $!"
    i=$((i + 1))
done
trap 'kill $pids 2>/dev/null' EXIT INT TERM
k=1
while [ "$k" -le "$runs" ]; do
    start=$(date +%s)
    if python3 -m pytest -q -p no:cacheprovider "$@" >"$out/run-$k.txt" 2>&1; then
        echo "run $k/$runs green in $(( $(date +%s) - start )) s: $(tail -n 1 "$out/run-$k.txt")"
    else
        echo "run $k/$runs RED in $(( $(date +%s) - start )) s, see $out/run-$k.txt:"
        grep -E "^(FAILED|ERROR)" "$out/run-$k.txt"
        exit 1
    fi
    k=$((k + 1))
done
echo "$runs runs green under $hogs CPU hogs"
