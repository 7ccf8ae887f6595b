#!/usr/bin/env bash
# The whole test suite on a fresh machine: install packages, build, start a throwaway
# PostgreSQL on a loopback port, run every test (unit, integration, peer), stop PostgreSQL.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash tools/setup.sh
bash tools/build.sh

export CERTCTL_TEST_PG_FAST=1  # tests only: durability is measured by the benchmarks
pg_url=$(bash tools/dev/test-postgres.sh start)
trap 'bash tools/dev/test-postgres.sh stop' EXIT
export CERTCTL_TEST_POSTGRES_URL=$pg_url

ctest --test-dir build --output-on-failure --timeout 900 "$@"
