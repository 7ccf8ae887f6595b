#!/usr/bin/env bash
# Builds and runs certctl-server on the embedded default: SQLite under ./var, the local CA,
# HTTPS on 127.0.0.1:8443. On first start the server prints an admin API key once.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
bash tools/build.sh --target certctl-server
export CERTCTL_DATA_DIR=${CERTCTL_DATA_DIR:-$root/var}
exec "$root/build/tools/server/certctl-server" "$@"
