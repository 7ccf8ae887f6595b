#!/usr/bin/env bash
# The network scanner's benchmark (docs/benchmarks.md): a /24 with 10 live TLS servers.
# Starts `openssl s_server` on 127.0.0.1-127.0.0.10:PORT, the built server on SERVER_PORT with
# 127.0.0.0/24 allowed, creates a target 127.0.0.0/24 with one port, and times
# POST /network-scan-targets/{id}/scan RUNS times (each a full scan recorded end to end).
# Usage: tools/dev/bench-network-scan.sh [build-dir]   (ports: PORT=56630 SERVER_PORT=56631)
set -euo pipefail
build=${1:-build}
port=${PORT:-56630}
server_port=${SERVER_PORT:-56631}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/certctl-scanbench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
for i in $(seq 1 10); do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=bench$i.scan.test" -keyout "$work/k$i.pem" -out "$work/c$i.pem" 2>/dev/null
  openssl s_server -quiet -www -accept "127.0.0.$i:$port" -cert "$work/c$i.pem" \
    -key "$work/k$i.pem" >/dev/null 2>&1 &
  pids+=($!)
done
key=bench-key-0123456789abcdef
env -i PATH="$PATH" CERTCTL_DATA_DIR="$work/data" CERTCTL_SERVER_PORT="$server_port" \
  CERTCTL_API_KEYS_NAMED="bench:$key:admin" CERTCTL_OUTBOUND_ALLOW_CIDRS=127.0.0.0/24 \
  "$build/tools/server/certctl-server" >"$work/server.log" 2>&1 &
pids+=($!)
api() { curl -sk -H "Authorization: Bearer $key" -H 'Content-Type: application/json' "$@"; }
for _ in $(seq 1 100); do api -o /dev/null "https://127.0.0.1:$server_port/health" && break; sleep 0.1; done
id=$(api -d '{"name":"bench","cidrs":["127.0.0.0/24"],"ports":['"$port"'],"timeout_ms":2000}' \
  "https://127.0.0.1:$server_port/api/v1/network-scan-targets" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
for r in $(seq 1 "$runs"); do
  start=$(date +%s%N)
  out=$(api -d "" "https://127.0.0.1:$server_port/api/v1/network-scan-targets/$id/scan")
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  [ -n "${DEBUG:-}" ] && echo "$out"
  python3 - "$out" "$ms" "$r" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); ms = int(sys.argv[2])
print(f"run {sys.argv[3]}: {d['probes']} probes, {d['tls_endpoints']} TLS endpoints, "
      f"{d['certificates_found']} found ({d['certificates_new']} new), scan {d['scan_duration_ms']} ms, "
      f"request {ms} ms, {d['probes'] * 1000 / max(ms, 1):.0f} probes/s")
PY
done
