# shellcheck shell=bash
# Pieces of a local certctl cluster on loopback (docs/cluster.md), sourced by
# tools/dev/run-cluster.sh and tools/bench/run-cluster-bench.sh:
#   cl_init WORKDIR; cl_build [targets]; cl_pg_start; cl_kafka_start; cl_make_ca; cl_new_admin_key;
#   cl_start_nodes N; cl_wait_balanced; ...; cl_stop_all (idempotent; call it from an EXIT trap).
# Everything listens on 127.0.0.1 only. Settings (environment):
#   CERTCTL_BIN_DIR            built tools (default <repo>/build/tools)
#   CERTCTL_TEST_PG_DIR/_PORT  the throwaway PostgreSQL (tools/dev/test-postgres.sh); defaults
#                              here are /tmp/certctl-cluster-pg and 55440, not the test suite's
#   CERTCTL_CLUSTER_BASE_PORT  first HTTPS port tried (default 8443; busy ports are skipped)
#   CERTCTL_CLUSTER_PARTITIONS partitions of certctl.commands (and certctl.events), default 12
#   CERTCTL_CLUSTER_READY_TIMEOUT seconds to wait for each node's /ready (default 90)
#   CL_CLUSTER_ENABLED         false starts the nodes without cluster mode (a reference run)
# Other CERTCTL_* variables in the environment reach every node unchanged.

cl_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CL_BIN=${CERTCTL_BIN_DIR:-$cl_root/build/tools}
CL_PG_DIR=${CERTCTL_TEST_PG_DIR:-/tmp/certctl-cluster-pg}
CL_PG_PORT=${CERTCTL_TEST_PG_PORT:-55440}
CL_BASE_PORT=${CERTCTL_CLUSTER_BASE_PORT:-8443}
CL_PARTITIONS=${CERTCTL_CLUSTER_PARTITIONS:-12}
CL_READY_TIMEOUT=${CERTCTL_CLUSTER_READY_TIMEOUT:-90}

CL_WORK=""
CL_PG_URL=""
CL_PG_STARTED=0
CL_KAFKA_PID=""
CL_BOOTSTRAP=""
CL_CA_CERT=""
CL_CA_KEY=""
CL_KEK=""
CL_ADMIN_KEY=""
CL_PIDS=()
CL_URLS=()
CL_LOGS=()

cl_log() { echo "[cluster] $*" >&2; }
cl_die() {
  echo "[cluster] error: $*" >&2
  exit 1
}

# cl_init WORKDIR: a fresh work dir for CA, logs and node data dirs. Only a dir an earlier run
# made (it holds .certctl-cluster) or an empty one is emptied.
cl_init() {
  CL_WORK=$1
  if [ -d "$CL_WORK" ] && [ -n "$(ls -A "$CL_WORK")" ] && [ ! -f "$CL_WORK/.certctl-cluster" ]; then
    cl_die "$CL_WORK exists and was not made by this script; choose another work dir"
  fi
  rm -rf "$CL_WORK"
  mkdir -p "$CL_WORK"
  touch "$CL_WORK/.certctl-cluster"
  CL_PIDS=()
  CL_URLS=()
  CL_LOGS=()
}

# cl_build [TARGET...]: builds the targets with tools/build.sh (make skips what is up to date);
# CERTCTL_CLUSTER_NO_BUILD=1 skips the build and only checks the binaries.
cl_build() {
  local targets=("$@")
  [ ${#targets[@]} -gt 0 ] || targets=(certctl-server certctl-mock-kafka)
  if [ "${CERTCTL_CLUSTER_NO_BUILD:-0}" != 1 ]; then
    local args=() t
    for t in "${targets[@]}"; do args+=(--target "$t"); done
    cl_log "building ${targets[*]} (tools/build.sh)"
    bash "$cl_root/tools/build.sh" "${args[@]}" >&2
  fi
  [ -x "$CL_BIN/server/certctl-server" ] || cl_die "$CL_BIN/server/certctl-server not built"
  [ -x "$CL_BIN/mock_kafka/certctl-mock-kafka" ] || cl_die "$CL_BIN/mock_kafka/certctl-mock-kafka not built"
}

# True when something listens on 127.0.0.1:PORT (or on any address at that port).
cl_port_busy() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
  else
    (: >"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# cl_pg_start: a throwaway PostgreSQL of our own (never one that is already running: its
# owner would lose it when we stop ours). Sets CL_PG_URL.
cl_pg_start() {
  if [ -f "$CL_PG_DIR/data/postmaster.pid" ] || cl_port_busy "$CL_PG_PORT"; then
    cl_die "a PostgreSQL already runs in $CL_PG_DIR or on port $CL_PG_PORT; pick another with CERTCTL_TEST_PG_DIR=... CERTCTL_TEST_PG_PORT=..."
  fi
  cl_log "starting PostgreSQL in $CL_PG_DIR on 127.0.0.1:$CL_PG_PORT"
  CL_PG_STARTED=1
  CL_PG_URL=$(CERTCTL_TEST_PG_DIR=$CL_PG_DIR CERTCTL_TEST_PG_PORT=$CL_PG_PORT \
    bash "$cl_root/tools/dev/test-postgres.sh" start)
}

cl_pg_stop() {
  [ "$CL_PG_STARTED" = 1 ] || return 0
  CERTCTL_TEST_PG_DIR=$CL_PG_DIR CERTCTL_TEST_PG_PORT=$CL_PG_PORT \
    bash "$cl_root/tools/dev/test-postgres.sh" stop || true
  CL_PG_STARTED=0
}

# cl_kafka_start: librdkafka's mock cluster (3 brokers) with certctl.commands and
# certctl.events. Sets CL_BOOTSTRAP.
cl_kafka_start() {
  local log=$CL_WORK/mock-kafka.log
  : >"$log"  # before the background start, so the first look below finds the file
  setsid "$CL_BIN/mock_kafka/certctl-mock-kafka" --brokers 3 --partitions "$CL_PARTITIONS" \
    --topic certctl.commands --topic certctl.events >"$log" 2>&1 &
  CL_KAFKA_PID=$!
  local i
  for i in $(seq 300); do
    CL_BOOTSTRAP=$(sed -n 's/^bootstrap=//p' "$log")
    [ -n "$CL_BOOTSTRAP" ] && break
    kill -0 "$CL_KAFKA_PID" 2>/dev/null || { cat "$log" >&2; cl_die "certctl-mock-kafka exited"; }
    sleep 0.1
  done
  [ -n "$CL_BOOTSTRAP" ] || { cat "$log" >&2; cl_die "certctl-mock-kafka printed no bootstrap"; }
  cl_log "mock Kafka (pid $CL_KAFKA_PID) at $CL_BOOTSTRAP"
}

cl_kafka_stop() {
  [ -n "$CL_KAFKA_PID" ] || return 0
  cl_kill_wait "$CL_KAFKA_PID"
  CL_KAFKA_PID=""
}

# cl_make_ca: the CA every node signs with (P-256, CA:TRUE, keyCertSign). It also signs each
# node's serving certificate, so it is the CA bundle for clients.
cl_make_ca() {
  CL_CA_CERT=$CL_WORK/ca.crt
  CL_CA_KEY=$CL_WORK/ca.key
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$CL_CA_KEY" -out "$CL_CA_CERT" -days 30 -subj "/CN=certctl local cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >"$CL_WORK/openssl.log" 2>&1 || { cat "$CL_WORK/openssl.log" >&2; cl_die "openssl failed"; }
  chmod 0600 "$CL_CA_KEY"
  # The key-encryption key every node is given (docs/cluster.md "Shared key material").
  CL_KEK=$CL_WORK/kek.key
  (umask 077 && openssl rand -out "$CL_KEK" 32)
}

# cl_new_admin_key: one random admin key for every node (CERTCTL_API_KEYS_NAMED).
cl_new_admin_key() {
  CL_ADMIN_KEY=$(openssl rand -hex 24)
}

# cl_start_node I: starts node-I on the next free port from CL_BASE_PORT + I - 1 and waits
# for its /ready. Appends to CL_PIDS, CL_URLS, CL_LOGS.
cl_start_node() {
  local i=$1 port
  port=$((CL_BASE_PORT + i - 1))
  if [ ${#CL_URLS[@]} -gt 0 ]; then  # above the previous node's port
    local prev=${CL_URLS[-1]##*:}
    [ "$port" -gt "$prev" ] || port=$((prev + 1))
  fi
  while cl_port_busy "$port"; do port=$((port + 1)); done
  local dir=$CL_WORK/node-$i log=$CL_WORK/node-$i.log
  mkdir -p "$dir"
  setsid env \
    CERTCTL_CLUSTER_ENABLED="${CL_CLUSTER_ENABLED:-true}" \
    CERTCTL_CLUSTER_NODE_ID="node-$i" \
    CERTCTL_SERVER_HOST=127.0.0.1 \
    CERTCTL_SERVER_PORT="$port" \
    CERTCTL_DATA_DIR="$dir" \
    CERTCTL_DATABASE_URL="$CL_PG_URL" \
    CERTCTL_KAFKA_BOOTSTRAP_SERVERS="$CL_BOOTSTRAP" \
    CERTCTL_CA_CERT_PATH="$CL_CA_CERT" \
    CERTCTL_CA_KEY_PATH="$CL_CA_KEY" \
    CERTCTL_KEY_ENCRYPTION_KEY_FILE="$CL_KEK" \
    CERTCTL_KEYGEN_MODE=server \
    CERTCTL_API_KEYS_NAMED="admin:$CL_ADMIN_KEY:admin" \
    "$CL_BIN/server/certctl-server" >"$log" 2>&1 &
  local pid=$!
  CL_PIDS+=("$pid")
  CL_URLS+=("https://127.0.0.1:$port")
  CL_LOGS+=("$log")
  cl_log "node-$i (pid $pid) starting on https://127.0.0.1:$port, log $log"
  cl_wait_ready "$pid" "https://127.0.0.1:$port" "$log"
}

# cl_wait_ready PID URL LOG: until GET URL/ready answers 200; fails if the process exits.
cl_wait_ready() {
  local pid=$1 url=$2 log=$3 start=$SECONDS code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 --cacert "$CL_CA_CERT" "$url/ready" || true)
    [ "$code" = 200 ] && break
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 40 "$log" >&2
      cl_die "server $url exited during startup"
    fi
    if [ $((SECONDS - start)) -ge "$CL_READY_TIMEOUT" ]; then
      tail -n 40 "$log" >&2
      curl -s --cacert "$CL_CA_CERT" "$url/ready" >&2 || true
      cl_die "server $url not ready after ${CL_READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
  cl_log "$url ready after $((SECONDS - start))s"
}

# cl_start_nodes N: node-1 first (it prepares the shared schemas), then the others one by one.
cl_start_nodes() {
  local i
  for i in $(seq "$1"); do cl_start_node "$i"; done
}

# cl_wait_balanced [TIMEOUT_S]: until GET /api/v1/cluster on the first node shows every started
# node up, each owning partitions, and all partitions owned once (the group has settled).
cl_wait_balanced() {
  local timeout=${1:-60} start=$SECONDS body n=${#CL_URLS[@]}
  while :; do
    body=$(curl -s --max-time 5 --cacert "$CL_CA_CERT" -H "Authorization: Bearer $CL_ADMIN_KEY" \
      "${CL_URLS[0]}/api/v1/cluster" || true)
    if python3 -c '
import json, sys
d = json.loads(sys.argv[1]); n = int(sys.argv[2])
up = [x for x in d["nodes"] if x["status"] == "up" and x["partitions"]]
owned = sorted(p for x in up for p in x["partitions"])
sys.exit(0 if len(up) == n and owned == list(range(d["partitions"])) else 1)
' "$body" "$n" 2>/dev/null; then
      cl_log "cluster settled: $n node(s) own the ${CL_PARTITIONS} partitions ($((SECONDS - start))s)"
      return 0
    fi
    if [ $((SECONDS - start)) -ge "$timeout" ]; then
      cl_log "warning: cluster not settled after ${timeout}s: $body"
      return 1
    fi
    sleep 0.5
  done
}

# cl_kill_wait PID...: SIGTERM, then SIGKILL for whatever still runs after 20 s.
cl_kill_wait() {
  local pid i alive
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 200); do
    alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      cl_log "pid $pid ignored SIGTERM for 20s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}

cl_stop_servers() {
  [ ${#CL_PIDS[@]} -gt 0 ] || return 0
  cl_kill_wait "${CL_PIDS[@]}"
  CL_PIDS=()
}

# cl_stop_all: servers (while Kafka still runs, so they leave the group cleanly), mock Kafka,
# PostgreSQL. Safe to call twice.
cl_stop_all() {
  cl_stop_servers
  cl_kafka_stop
  cl_pg_stop
}
