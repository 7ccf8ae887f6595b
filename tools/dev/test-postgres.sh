#!/usr/bin/env bash
# Throwaway PostgreSQL for tests: start | stop | url.
# Runs as the `postgres` user (initdb refuses root), on a loopback port, with its socket and
# data under $CERTCTL_TEST_PG_DIR. Durability is relaxed only when CERTCTL_TEST_PG_FAST=1
# (unit/integration tests); benchmarks and the fault tests (docs/fault-tests.md, which start
# their own instance with CERTCTL_TEST_PG_FAST=0) run with fsync on.
set -euo pipefail

dir=${CERTCTL_TEST_PG_DIR:-/tmp/certctl-test-pg}
port=${CERTCTL_TEST_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() { runuser -u postgres -- "$@"; }

case "${1:-}" in
  start)
    [ -n "$bin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
    if [ -f "$dir/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "postgresql://postgres@127.0.0.1:$port/certctl_test"; exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chown postgres:postgres "$dir"
    chmod 0755 "$dir"
    as_postgres "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    opts="-c listen_addresses=127.0.0.1 -c port=$port -k $dir -c max_connections=200"
    if [ "${CERTCTL_TEST_PG_FAST:-0}" = 1 ]; then
      opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    fi
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "$opts" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_postgres "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres certctl_test
    echo "postgresql://postgres@127.0.0.1:$port/certctl_test"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    ;;
  url)
    echo "postgresql://postgres@127.0.0.1:$port/certctl_test"
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2; exit 2
    ;;
esac
