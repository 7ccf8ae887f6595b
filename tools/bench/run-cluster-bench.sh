#!/usr/bin/env bash
# The "Cluster issuance (1, 2, 3 nodes)" figures of docs/benchmarks.md. For each node count:
# a fresh PostgreSQL (fsync on), a fresh mock Kafka, a fresh shared CA and admin key, N
# certctl-server nodes in cluster mode (tools/dev/cluster-lib.sh), then
#   certctl-bench issue --server URL1,URL2,.. --concurrency C --count N
# (client thread t talks to node t % N), then everything is stopped. Runs are interleaved
# (1, 2, 3, 1, 2, 3, ...) and the table reports the median issued_per_s.
#   bash tools/bench/run-cluster-bench.sh
# Environment: NODES ("1 2 3"), REPEATS (3), CONCURRENCY (16), COUNT (2000),
# BENCH_DIR (/tmp/certctl-cluster-bench: logs and raw outputs), CERTCTL_CLUSTER_NO_BUILD=1,
# and the settings of tools/dev/cluster-lib.sh (PostgreSQL dir/port, binaries, base port).
# Needs root (PostgreSQL runs as the postgres user). Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/dev/cluster-lib.sh
. "$root/tools/dev/cluster-lib.sh"

nodes_list=${NODES:-1 2 3}
repeats=${REPEATS:-3}
concurrency=${CONCURRENCY:-16}
count=${COUNT:-2000}
bench_dir=${BENCH_DIR:-/tmp/certctl-cluster-bench}

cleanup() {
  trap - EXIT INT TERM
  cl_stop_all
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cl_build certctl-server certctl-mock-kafka certctl-bench
[ -x "$CL_BIN/bench/certctl-bench" ] || cl_die "$CL_BIN/bench/certctl-bench not built"
mkdir -p "$bench_dir"
results=$bench_dir/results.txt
: >"$results"

# One measurement: prints "nodes=N run=R loadavg=L issued_per_s=X ..." to stdout and results.
measure() {
  local n=$1 run=$2 work=$bench_dir/n$1-run$2
  cl_init "$work"
  cl_pg_start
  cl_kafka_start
  cl_make_ca
  cl_new_admin_key
  cl_start_nodes "$n"
  cl_wait_balanced 60 || true
  local servers load out rc=0
  servers=$(IFS=,; echo "${CL_URLS[*]}")
  load=$(cut -d' ' -f1 /proc/loadavg)
  cl_log "nodes=$n run=$run: certctl-bench issue --server $servers --concurrency $concurrency --count $count"
  "$CL_BIN/bench/certctl-bench" issue --server "$servers" --api-key "$CL_ADMIN_KEY" \
    --ca-bundle "$CL_CA_CERT" --concurrency "$concurrency" --count "$count" \
    >"$work/bench.out" 2>"$work/bench.err" || rc=$?
  out=$(cat "$work/bench.out")
  # Per node: commands this node forwarded to an owner / executed for another node.
  local i fwd=""
  for i in "${!CL_URLS[@]}"; do
    fwd+=$(curl -s --max-time 5 --cacert "$CL_CA_CERT" -H "Authorization: Bearer $CL_ADMIN_KEY" \
      "${CL_URLS[$i]}/api/v1/cluster" |
      python3 -c 'import json,sys; t=json.load(sys.stdin)["this_node"]; print("%s:%d/%d/%d" % (t["node_id"], t["forwarded_commands"], t["received_commands"], t["rejected_commands"]), end=" ")' ||
      true)
  done
  cl_stop_all
  local line
  line="nodes=$n run=$run loadavg=$load rc=$rc $(echo "$out" | grep '^created=' | cut -d' ' -f1,2,4)"
  line+=" $(echo "$out" | grep '^create latency' | cut -d' ' -f3-4)"
  line+=" $(echo "$out" | grep '^active=' | cut -d' ' -f1,2,3) $(echo "$out" | tail -n 1)"
  line+=" forwarded/received/rejected: ${fwd% }"
  echo "$line" | tee -a "$results"
  [ "$rc" = 0 ] || { cl_log "bench exited $rc:"; tail -n 5 "$work/bench.err" >&2; }
}

for run in $(seq "$repeats"); do
  for n in $nodes_list; do measure "$n" "$run"; done
done

echo
echo "issued_per_s, concurrency=$concurrency count=$count, $repeats run(s) each, $(nproc) CPUs shared by all nodes"
printf '%-6s %-10s %s\n' nodes median runs
for n in $nodes_list; do
  runs=$(grep "^nodes=$n " "$results" | sed 's/.*issued_per_s=\([0-9.]*\).*/\1/' | tr '\n' ' ')
  median=$(echo "$runs" | tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')
  printf '%-6s %-10s %s\n' "$n" "$median" "$runs"
done
