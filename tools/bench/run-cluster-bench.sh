#!/usr/bin/env bash
# The "Cluster issuance (1, 2, 3 nodes)" figures of docs/benchmarks.md. For each node count:
# a fresh PostgreSQL (fsync on), a fresh mock Kafka, a fresh shared CA and admin key, N
# certctl-server nodes in cluster mode (tools/dev/cluster-lib.sh), then
#   certctl-bench issue --server URL1,URL2,.. --concurrency C --count N
# (client thread t talks to node t % N), then everything is stopped. Runs are interleaved
# (1, 2, 3, 1, 2, 3, ...) and the table reports the medians of issued_per_s, create latency p50
# and forwarded commands per certificate (summed over the nodes' GET /api/v1/cluster counters),
# server CPU per certificate (all nodes; the mock brokers apart) and, per node, the forward
# timing split (docs/cluster.md "Forward timing").
# Node count 0 is the reference: one node without cluster mode (same PostgreSQL; its Kafka
# event relay publishes to the same mock brokers, as the cluster's relay singleton does).
#   bash tools/bench/run-cluster-bench.sh                  # saturated: 16 clients
#   CONCURRENCY=4 COUNT=500 bash tools/bench/run-cluster-bench.sh   # latency = path length
# Environment: NODES ("0 1 2 3"), REPEATS (3), CONCURRENCY (16), COUNT (2000),
# BENCH_DIR (/tmp/certctl-cluster-bench: logs and raw outputs), CERTCTL_CLUSTER_NO_BUILD=1,
# and the settings of tools/dev/cluster-lib.sh (PostgreSQL dir/port, binaries, base port).
# Needs root (PostgreSQL runs as the postgres user). Loopback only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tools/dev/cluster-lib.sh
. "$root/tools/dev/cluster-lib.sh"

nodes_list=${NODES:-0 1 2 3}
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

# cpu_ticks PID...: user + system clock ticks of the processes so far (0 for a gone one).
cpu_ticks() {
  local pid total=0 t
  for pid in "$@"; do
    t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + t))
  done
  echo "$total"
}

# One measurement: prints "nodes=N run=R loadavg=L issued_per_s=X ..." to stdout and results.
measure() {
  local n=$1 run=$2 work=$bench_dir/n$1-run$2
  cl_init "$work"
  cl_pg_start
  cl_kafka_start
  cl_make_ca
  cl_new_admin_key
  if [ "$n" = 0 ]; then
    CL_CLUSTER_ENABLED=false cl_start_nodes 1
  else
    cl_start_nodes "$n"
    cl_wait_balanced 60 || true
  fi
  local servers load out rc=0 cpu_before kafka_before
  servers=$(IFS=,; echo "${CL_URLS[*]}")
  load=$(cut -d' ' -f1 /proc/loadavg)
  cpu_before=$(cpu_ticks "${CL_PIDS[@]}")
  kafka_before=$(cpu_ticks $CL_KAFKA_PID)
  cl_log "nodes=$n run=$run: certctl-bench issue --server $servers --concurrency $concurrency --count $count"
  "$CL_BIN/bench/certctl-bench" issue --server "$servers" --api-key "$CL_ADMIN_KEY" \
    --ca-bundle "$CL_CA_CERT" --concurrency "$concurrency" --count "$count" \
    >"$work/bench.out" 2>"$work/bench.err" || rc=$?
  # Server CPU per certificate (user + system, all nodes; the mock brokers apart): a figure
  # that moves much less with the box's load than latency or rate do.
  local cpu_ms kafka_ms
  cpu_ms=$(awk -v a="$cpu_before" -v b="$(cpu_ticks "${CL_PIDS[@]}")" -v hz="$(getconf CLK_TCK)" \
    -v c="$count" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / c }')
  kafka_ms=$(awk -v a="$kafka_before" -v b="$(cpu_ticks $CL_KAFKA_PID)" -v hz="$(getconf CLK_TCK)" \
    -v c="$count" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / c }')
  out=$(cat "$work/bench.out")
  # Per node: commands this node forwarded to an owner / executed for another node /
  # rejected, and the certificate creates it received; summed: forwarded per certificate.
  local i fwd="" node_line fwd_total=0 req_total=0 timing=""
  for i in "${!CL_URLS[@]}"; do
    [ "$n" = 0 ] && break
    node_line=$(curl -s --max-time 5 --cacert "$CL_CA_CERT" -H "Authorization: Bearer $CL_ADMIN_KEY" \
      "${CL_URLS[$i]}/api/v1/cluster" |
      python3 -c 'import json,sys; t=json.load(sys.stdin)["this_node"]; f=t.get("forward_timing", {}); print("%s %d %d %d %d %s/%s/%s/%s/%s" % (t["node_id"], t["forwarded_commands"], t["received_commands"], t["rejected_commands"], t.get("certificate_requests", 0), f.get("round_trip_ms", "-"), f.get("command_ack_ms", "-"), f.get("command_transit_ms", "-"), f.get("execute_ms", "-"), f.get("reply_transit_ms", "-")))' ||
      true)
    [ -n "$node_line" ] || continue
    read -r id f r j q tm <<<"$node_line"
    fwd+="$id:$f/$r/$j "
    timing+="$id:$tm "
    fwd_total=$((fwd_total + f))
    req_total=$((req_total + q))
  done
  local per_cert
  per_cert=$(awk -v f="$fwd_total" -v q="$req_total" 'BEGIN { printf "%.2f", (q > 0) ? f / q : 0 }')
  cl_stop_all
  local line
  line="nodes=$n run=$run loadavg=$load rc=$rc $(echo "$out" | grep '^created=' | cut -d' ' -f1,2,4)"
  line+=" $(echo "$out" | grep '^create latency' | cut -d' ' -f3-4)"
  line+=" $(echo "$out" | grep '^active=' | cut -d' ' -f1,2,3) $(echo "$out" | tail -n 1)"
  line+=" server_cpu_ms_per_cert=$cpu_ms kafka_cpu_ms_per_cert=$kafka_ms"
  line+=" forwarded_per_certificate=$per_cert forwarded/received/rejected: ${fwd% }"
  [ -z "$timing" ] || line+=" round_trip/ack/command_transit/execute/reply_transit_ms: ${timing% }"
  echo "$line" | tee -a "$results"
  [ "$rc" = 0 ] || { cl_log "bench exited $rc:"; tail -n 5 "$work/bench.err" >&2; }
}

for run in $(seq "$repeats"); do
  for n in $nodes_list; do measure "$n" "$run"; done
done

median_of() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

echo
echo "concurrency=$concurrency count=$count, $repeats run(s) each, $(nproc) CPUs shared by all nodes"
echo "(nodes 0 = one node without cluster mode)"
printf '%-6s %-13s %-14s %-13s %-16s %-16s %s\n' nodes issued_per_s create_p50_ms fwd_per_cert \
  cpu_ms_per_cert kafka_ms_per_cert create_p50_ms_runs
for n in $nodes_list; do
  field() { grep "^nodes=$n " "$results" | sed "s/.* $1=\\([0-9.]*\\).*/\\1/" | tr '\n' ' '; }
  p50s=$(field p50)
  printf '%-6s %-13s %-14s %-13s %-16s %-16s %s\n' "$n" "$(field issued_per_s | median_of)" \
    "$(echo "$p50s" | median_of)" "$(field forwarded_per_certificate | median_of)" \
    "$(field server_cpu_ms_per_cert | median_of)" "$(field kafka_cpu_ms_per_cert | median_of)" "$p50s"
done
