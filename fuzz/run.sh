#!/usr/bin/env bash
# Runs the fuzz targets one after another, each for a bounded time.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# SECONDS defaults to 60; the targets default to every one `cargo fuzz list`
# knows. Each target keeps its corpus in fuzz/corpus/<target> (gitignored)
# and its libFuzzer log in fuzz/logs/<target>.log. Targets are built with
# debug assertions (`-a`), so the runtime's internal checks run too.
#
# Stops with status 1 at the first crash, naming the target and the input
# that crashed (fuzz/artifacts/<target>/crash-...); see fuzz/README.md for
# turning it into a regression test. Prefix with `nice -n 19` on a shared
# machine.
set -euo pipefail

cd "$(dirname "$0")"
seconds="${1:-60}"
shift || true
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p logs
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target" "artifacts/$target"
    cargo +nightly fuzz build -a "$target"
    log="logs/$target.log"
    echo "== $target: ${seconds}s"
    start=$(date +%s)
    status=0
    TIMEFORMAT="cpu: %U s user, %S s sys"
    { time cargo +nightly fuzz run -a "$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; } 2>"logs/$target.time" ||
        status=$?
    cpu=$(cat "logs/$target.time")
    elapsed=$(($(date +%s) - start))
    if [ "$status" -ne 0 ]; then
        artifact=$(grep -o 'Test unit written to [^ ]*' "$log" | tail -1 | cut -d' ' -f5 || true)
        echo "!! $target crashed after ${elapsed}s (status $status)" >&2
        echo "!! input: ${artifact:-see $log}" >&2
        echo "!! log:   fuzz/$log" >&2
        grep -m1 -A12 -E 'panicked at|ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)' "$log" >&2 || true
        exit 1
    fi
    # libFuzzer's last status line and its final figures.
    grep -E '^#[0-9]+' "$log" | tail -1
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" | tr '\n' ' '
    echo "corpus: $(find "corpus/$target" -type f | wc -l) files; ${elapsed}s; $cpu"
done
