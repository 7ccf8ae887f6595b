#!/usr/bin/env bash
# End-to-end issuance figures of docs/benchmarks.md: one fresh server (embedded SQLite, server
# key generation) per run, `certctl-bench issue` against it with the server's CPU read from
# /proc. Several server binaries run interleaved (A, B, A, B, ...), so a before/after pair
# shares the box's load:
#   SERVERS="before=/tmp/old/certctl-server after=build/tools/server/certctl-server" \
#   CONCURRENCY="16 32" COUNT=4000 REPEATS=3 tools/bench/run-issue-bench.sh
# Prints one line per run: label, concurrency, load average, and the bench's figures.
# PERF_EVENTS=1 also counts the server's fdatasync/futex/pread64/pwrite64 calls and context
# switches with `perf stat` and prints them per certificate.
# THREADS=1 also prints the server's CPU per certificate by thread name (µs, from
# /proc/PID/task/*/stat over the run): the projector, store-writer and wal-checkpoint threads
# are named; the rest (HTTP, CAF, issuance workers) add up under certctl-server.
set -euo pipefail

bench=${BENCH:-build/tools/bench/certctl-bench}
servers=${SERVERS:-after=build/tools/server/certctl-server}
concurrency=${CONCURRENCY:-16}
count=${COUNT:-2000}
repeats=${REPEATS:-3}
port=${PORT:-41510}
dir=${BENCH_DIR:-/tmp/certctl-issue-bench}
key=bench-key-0123456789abcdef

for i in $(seq "$repeats"); do
  for c in $concurrency; do
    for s in $servers; do
      label=${s%%=*}
      bin=${s#*=}
      rm -rf "$dir" && mkdir -p "$dir"
      CERTCTL_DATA_DIR=$dir/data CERTCTL_SERVER_PORT=$port CERTCTL_KEYGEN_MODE=server \
        CERTCTL_API_KEYS_NAMED=bench:$key:admin "$bin" >"$dir/server.log" 2>&1 &
      pid=$!
      for _ in $(seq 100); do
        grep -q '^listening on' "$dir/server.log" 2>/dev/null && break
        sleep 0.1
      done
      load=$(cut -d' ' -f1 /proc/loadavg)
      if [ -n "${THREADS:-}" ]; then
        for t in /proc/"$pid"/task/*; do echo "$(cat "$t/comm") $(cut -d' ' -f14,15 "$t/stat")"; done \
          >"$dir/threads0" 2>/dev/null || true
      fi
      perf_pid=
      if [ -n "${PERF_EVENTS:-}" ]; then
        perf stat -x, -o "$dir/perf.txt" -p "$pid" -e 'syscalls:sys_enter_fdatasync,syscalls:sys_enter_futex,syscalls:sys_enter_pread64,syscalls:sys_enter_pwrite64,context-switches' &
        perf_pid=$!
      fi
      out=$("$bench" issue --server "https://127.0.0.1:$port" --api-key "$key" \
        --ca-bundle "$dir/data/ca-bundle.pem" --concurrency "$c" --count "$count" \
        --server-pid "$pid" 2>/dev/null || true)
      per_cert=
      if [ -n "${THREADS:-}" ]; then
        for t in /proc/"$pid"/task/*; do echo "$(cat "$t/comm") $(cut -d' ' -f14,15 "$t/stat")"; done \
          >"$dir/threads1" 2>/dev/null || true
        # Ticks of 10 ms (USER_HZ 100) per thread name, after minus before, in µs per certificate.
        per_cert=$(awk -v n="$count" 'FNR == NR { b[$1] += $2 + $3; next } { a[$1] += $2 + $3 }
          END { for (k in a) printf "cpu_us_%s=%.0f ", k, (a[k] - b[k]) * 10000 / n }' \
          "$dir/threads0" "$dir/threads1")
      fi
      if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" && wait "$perf_pid" || true
        per_cert="$per_cert"$(awk -F, -v n="$count" '/^[0-9]/ { sub(/^syscalls:sys_enter_/, "", $3);
          printf "%s=%.1f ", $3, $1 / n }' "$dir/perf.txt")
      fi
      kill "$pid" && wait "$pid" || true
      echo "$label C=$c run=$i loadavg=$load" \
        "$(echo "$out" | grep -E '^(created|create latency|active|server_cpu|issued_per_s)' |
          sed 's/^create latency //' | tr '\n' ' ')" "$per_cert"
    done
  done
done
