#!/usr/bin/env bash
# ACME order-rate figures of docs/benchmarks.md: one fresh certctl server (embedded SQLite) per
# run, `certctl-bench acme` against it with the server's CPU read from /proc, interleaved with
# the other server binaries and with pebble (same client, same orders), so every row of one
# round shares the box's load:
#   SERVERS="before=/tmp/old/certctl-server after=build/tools/server/certctl-server" \
#   ORDERS=500 REPEATS=3 PEBBLE=1 CHALLENGE=1 tools/bench/run-acme-bench.sh
# certctl runs in its default auth mode (trust_authenticated: no challenge) and, with
# CHALLENGE=1, once more in challenge mode with real http-01 validation against the bench's
# responder; pebble runs with PEBBLE_VA_ALWAYS_VALID=1 (the client answers the challenge, pebble
# does not connect). Prints one line per run: label, load average, the bench's figures.
set -uo pipefail

bench=${BENCH:-build/tools/bench/certctl-bench}
servers=${SERVERS:-after=build/tools/server/certctl-server}
orders=${ORDERS:-500}
pebble_orders=${PEBBLE_ORDERS:-$orders}
repeats=${REPEATS:-3}
concurrency=${CONCURRENCY:-8}  # client threads, the same for every server
port=${PORT:-41770}          # certctl; +1 is the bench's http-01 responder
pebble_port=${PEBBLE_PORT:-41760}  # pebble's listener; +1..+3 its management, http, tls ports
dir=${BENCH_DIR:-/tmp/certctl-acme-bench}
figures='^(completed|order latency|  new-order|  finalize|server_cpu|acme_orders_per_s)'

run_certctl() {  # label binary [extra env...]
  local label=$1 bin=$2
  shift 2
  rm -rf "$dir/certctl" && mkdir -p "$dir/certctl"
  env "$@" CERTCTL_DATA_DIR="$dir/certctl/data" CERTCTL_SERVER_PORT="$port" \
    CERTCTL_KEYGEN_MODE=agent CERTCTL_ACME_SERVER_ENABLED=true \
    CERTCTL_ACME_SERVER_ORDERS_PER_HOUR=0 "$bin" >"$dir/certctl/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 200); do
    grep -q '^listening on' "$dir/certctl/server.log" 2>/dev/null && break
    sleep 0.1
  done
  local load extra=()
  load=$(cut -d' ' -f1 /proc/loadavg)
  [ "$label" != "${label%-challenge}" ] && extra=(--http01-port $((port + 1)))
  out=$(timeout 120 "$bench" acme --directory "https://127.0.0.1:$port/acme/directory" \
    --ca-bundle "$dir/certctl/data/ca-bundle.pem" --concurrency "$concurrency" --orders "$orders" \
    --server-pid "$pid" "${extra[@]}" 2>&1)
  kill "$pid" && wait "$pid"
  echo "$label run=$i loadavg=$load $(echo "$out" | grep -E "$figures" | tr -s ' ' | tr '\n' ' ')"
}

run_pebble() {
  mkdir -p "$dir/pebble" && cd "$dir/pebble" || return
  if [ ! -f pebble.json ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      -keyout key.pem -out cert.pem 2>/dev/null
    printf '{"pebble":{"listenAddress":"127.0.0.1:%d","managementListenAddress":"127.0.0.1:%d",%s' \
      "$pebble_port" $((pebble_port + 1)) \
      "\"certificate\":\"cert.pem\",\"privateKey\":\"key.pem\",\"httpPort\":$((pebble_port + 2)),\"tlsPort\":$((pebble_port + 3)),\"ocspResponderURL\":\"\",\"externalAccountBindingRequired\":false}}" \
      >pebble.json
  fi
  PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_AUTHZREUSE=0 \
    pebble -config pebble.json >pebble.log 2>&1 &
  local pid=$!
  for _ in $(seq 100); do
    grep -q 'ACME directory available' pebble.log 2>/dev/null && break
    sleep 0.1
  done
  local load
  load=$(cut -d' ' -f1 /proc/loadavg)
  # pebble stops answering now and then (near 0 % CPU; docs/benchmarks.md): given up at 60 s.
  out=$(timeout 60 "$bench" acme --directory "https://127.0.0.1:$pebble_port/dir" \
    --ca-bundle cert.pem --concurrency "$concurrency" --orders "$pebble_orders" --server-pid "$pid" 2>&1)
  kill "$pid" && wait "$pid"
  cd - >/dev/null || return
  local got
  got=$(echo "$out" | grep -E "$figures" | tr -s ' ' | tr '\n' ' ')
  echo "pebble run=$i loadavg=$load ${got:-(no result: pebble stopped answering)}"
}

bench=$(realpath "$bench")
for i in $(seq "$repeats"); do
  for s in $servers; do
    run_certctl "${s%%=*}" "$(realpath "${s#*=}")"
  done
  [ "${PEBBLE:-0}" = 1 ] && run_pebble
  if [ "${CHALLENGE:-0}" = 1 ]; then
    last=${servers##* }
    run_certctl "${last%%=*}-challenge" "$(realpath "${last#*=}")" \
      CERTCTL_ACME_SERVER_AUTH_MODE=challenge CERTCTL_ACME_SERVER_HTTP01_HOST=127.0.0.1 \
      CERTCTL_ACME_SERVER_HTTP01_PORT=$((port + 1)) CERTCTL_OUTBOUND_ALLOW_CIDRS=127.0.0.1/32
  fi
done
