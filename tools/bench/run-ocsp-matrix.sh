#!/usr/bin/env bash
# OCSP under many clients (docs/benchmarks.md, "OCSP responder: 1,000 keep-alive clients"):
# interleaves the same load matrix against two PKI ports (e.g. a build before and after a
# change, each server on its own copy of one data directory), RUNS times each.
# Usage: run-ocsp-matrix.sh BEFORE_PORT AFTER_PORT CA_PEM SERIALS_FILE [RUNS] [SECONDS]
set -euo pipefail
before=$1 after=$2 ca=$3 serials=$4 runs=${5:-3} seconds=${6:-10}
bench=${CERTCTL_BENCH:-build/tools/bench/certctl-bench}
loads=("--concurrency 64" "--concurrency 1000" "--concurrency 64 --rate 5000"
  "--concurrency 1000 --rate 5000")
for run in $(seq 1 "$runs"); do
  for load in "${loads[@]}"; do
    for side in before after; do
      port=$before
      [[ $side == after ]] && port=$after
      echo "== $side run=$run $load loadavg=$(cut -d' ' -f1 /proc/loadavg)"
      # shellcheck disable=SC2086
      "$bench" ocsp --url "http://127.0.0.1:$port/.well-known/pki/ocsp/iss-local" \
        --issuer-cert "$ca" --serials "$serials" --seconds "$seconds" $load 2>&1 |
        grep -E "responses=|latency|ocsp_per_s|first failure" || true
    done
  done
done
