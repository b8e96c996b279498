#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, at the lowest CPU priority:
#   fuzz/run-all.sh [SECONDS per target, default 600] [LOG DIR, default /tmp/fuzz-logs]
# Each target's libFuzzer output goes to LOG_DIR/<target>.log; the last
# "DONE" line there gives execs (#N), coverage (cov, ft) and exec/s.
# New inputs land in fuzz/corpus/<target>/, crashes in fuzz/artifacts/<target>/.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
logs=${2:-/tmp/fuzz-logs}
mkdir -p "$logs"
targets=$(cargo +nightly fuzz list)
nice -n 19 cargo +nightly fuzz build -O || exit 1
for t in $targets; do
    echo "== $t ($secs s) $(date -u +%H:%M:%S)"
    nice -n 19 cargo +nightly fuzz run -O "$t" -- -max_total_time="$secs" \
        -jobs=1 -workers=1 -rss_limit_mb=2048 -timeout=10 >"$logs/$t.log" 2>&1
    rc=$?
    # With -jobs, libFuzzer writes the job's own output to fuzz-0.log.
    [[ -f fuzz-0.log ]] && cat fuzz-0.log >>"$logs/$t.log" && rm fuzz-0.log
    echo "   rc=$rc $(grep -E '^#[0-9]+' "$logs/$t.log" | tail -1)"
done
