#!/usr/bin/env bash
# A local certctl cluster on loopback (docs/cluster.md): bash tools/dev/run-cluster.sh [NODES]
# Builds if needed, then starts a throwaway PostgreSQL, librdkafka's mock Kafka cluster
# (certctl.commands and certctl.events, 12 partitions each), a shared CA and NODES (default 3)
# certctl-server processes on 127.0.0.1:8443, 8444, ... (busy ports are skipped), prints how to
# reach them and runs until Ctrl-C, which stops everything and deletes the PostgreSQL data.
# Needs root, like the test suite (PostgreSQL runs as the postgres user).
# Environment: CERTCTL_CLUSTER_DIR (work dir: CA, logs, node data; default /tmp/certctl-cluster),
# CERTCTL_CLUSTER_NO_BUILD=1, and the settings listed in tools/dev/cluster-lib.sh (PostgreSQL
# dir and port, base port, partitions). Other CERTCTL_* variables reach every node.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tools/dev/cluster-lib.sh
. "$here/cluster-lib.sh"

nodes=${1:-3}
case "$nodes" in
  '' | *[!0-9]*) echo "usage: $0 [NODES]   (NODES: 1 or more, default 3)" >&2; exit 2 ;;
esac
[ "$nodes" -ge 1 ] || { echo "usage: $0 [NODES]" >&2; exit 2; }

cleanup() {
  trap - EXIT INT TERM
  cl_log "stopping servers, mock Kafka and PostgreSQL"
  cl_stop_all
  cl_log "stopped; logs and node data stay in $CL_WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cl_build certctl-server certctl-mock-kafka
cl_init "${CERTCTL_CLUSTER_DIR:-/tmp/certctl-cluster}"
cl_pg_start
cl_kafka_start
cl_make_ca
cl_new_admin_key
cl_start_nodes "$nodes"
cl_wait_balanced 60 || true

first=${CL_URLS[0]}
cat <<EOF

certctl cluster: $nodes node(s), PostgreSQL $CL_PG_URL, Kafka $CL_BOOTSTRAP
$(for i in "${!CL_URLS[@]}"; do echo "  node-$((i + 1))  ${CL_URLS[$i]}  (pid ${CL_PIDS[$i]}, log ${CL_LOGS[$i]})"; done)

CA bundle:     $CL_CA_CERT
admin API key: $CL_ADMIN_KEY   (shown once; every node accepts it)

  export CA=$CL_CA_CERT KEY=$CL_ADMIN_KEY URL=$first
  curl --cacert \$CA -H "Authorization: Bearer \$KEY" \$URL/api/v1/cluster
  curl -N --cacert \$CA -H "Authorization: Bearer \$KEY" \$URL/api/v1/events/stream   # SSE
  kcat -b $CL_BOOTSTRAP -t certctl.events -C -f '%k %h %s\\n'
  # the CLI: CERTCTL_SERVER_URL=\$URL CERTCTL_API_KEY=\$KEY CERTCTL_SERVER_CA_BUNDLE_PATH=\$CA build/tools/cli/certctl status

Ctrl-C stops everything.
EOF

# Wait; report (once) a node that exits on its own.
declare -A reported=()
while :; do
  sleep 2 &
  wait $! || true
  for i in "${!CL_PIDS[@]}"; do
    if [ -z "${reported[$i]:-}" ] && ! kill -0 "${CL_PIDS[$i]}" 2>/dev/null; then
      reported[$i]=1
      cl_log "node-$((i + 1)) (pid ${CL_PIDS[$i]}) exited; last lines of ${CL_LOGS[$i]}:"
      tail -n 20 "${CL_LOGS[$i]}" >&2
    fi
  done
done
