#!/usr/bin/env bash
# Before/after pairs of `certctl-bench append`, interleaved (A, B, A, B, ...) so both binaries
# see the same load, with the CPU per append of the bench and of the store's server.
#   BENCHES="before=/tmp/me/before/certctl-bench after=build/tools/bench/certctl-bench" \
#   STORE=postgresql://postgres@127.0.0.1:55541/certctl_test PG_DATA=/tmp/pg-w6pg/data \
#     tools/bench/run-append-pairs.sh
# PG_DATA (the server's data directory) names the postmaster whose CPU, with its children's,
# is reported; leave it unset for SQLite stores (sqlite:///tmp/x/append.db).
# Only the last binary of BENCHES needs --server-pid; older ones run without it.
set -euo pipefail

pairs=${PAIRS:-3}
writers=${WRITERS:-64}
events=${EVENTS:-100000}
server_flag=()
if [ -n "${PG_DATA:-}" ]; then server_flag=(--server-pid "$(head -n 1 "$PG_DATA/postmaster.pid")"); fi

for i in $(seq "$pairs"); do
  for entry in $BENCHES; do
    label=${entry%%=*} bench=${entry#*=}
    flags=("${server_flag[@]}")
    "$bench" append --help 2>&1 | grep -q -- --server-pid || flags=()
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    out=$("$bench" append --store "$STORE" --streams "$writers" --events "$events" --fresh "${flags[@]}")
    echo "$label pair=$i load=\"$load\" $(echo "$out" | grep '^append latency' | cut -d' ' -f3-4)" \
         "$(echo "$out" | grep -E '^(process|server)_cpu|^batches' | tr '\n' ' ')$(echo "$out" | tail -n 1)"
  done
done
