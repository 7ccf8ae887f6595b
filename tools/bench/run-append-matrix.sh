#!/usr/bin/env bash
# The append figures of docs/benchmarks.md: SQLite and durable PostgreSQL, 64 writers, group
# commit on and off, each run $REPEATS times (the table reports the median).
#   BENCH=build/tools/bench/certctl-bench PG_URL=postgresql://postgres@127.0.0.1:55433/certctl_test \
#     tools/bench/run-append-matrix.sh
# PG_URL must point at a server with fsync on (tools/dev/test-postgres.sh without
# CERTCTL_TEST_PG_FAST). Unset PG_URL to run SQLite only.
set -euo pipefail

bench=${BENCH:-build/tools/bench/certctl-bench}
dir=${BENCH_DIR:-/tmp/certctl-bench}
repeats=${REPEATS:-3}
writers=${WRITERS:-64}
gc_events=${GC_EVENTS:-100000}
nogc_events=${NOGC_EVENTS:-10000}
mkdir -p "$dir"

run() {  # label, then certctl-bench append flags
  local label=$1; shift
  for i in $(seq "$repeats"); do
    local load out
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$("$bench" append --streams "$writers" --fresh "$@")
    echo "$label run=$i loadavg=$load $(echo "$out" | grep '^append latency' | cut -d' ' -f3-4)" \
         "$(echo "$out" | grep '^total_seconds') $(echo "$out" | tail -n 1)"
  done
}

run "sqlite group_commit=on " --store "sqlite://$dir/append.db" --events "$gc_events"
run "sqlite group_commit=off" --store "sqlite://$dir/append.db" --events "$nogc_events" --no-group-commit
if [ -n "${PG_URL:-}" ]; then
  run "postgres group_commit=on " --store "$PG_URL" --events "$gc_events"
  run "postgres group_commit=off" --store "$PG_URL" --events "$nogc_events" --no-group-commit
fi
