#!/usr/bin/env bash
# Configures (once) and builds the project in ./build, Release, with ccache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_DIR=${CCACHE_DIR:-$root/.ccache}
if [ ! -f "$root/build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DCERTCTL_FAULT_INJECTION=ON
elif ! grep -q '^CERTCTL_FAULT_INJECTION:BOOL=ON' "$root/build/CMakeCache.txt"; then
  # The test build has the fault injection points (docs/fault-tests.md); release builds do not.
  cmake -S "$root" -B "$root/build" -DCERTCTL_FAULT_INJECTION=ON
fi
cmake --build "$root/build" -j"$(nproc)" "$@"

# The web dashboard (gateways/dashboard) into build/dashboard, where certctl-server serves it
# from; npm ci only when the lockfile changed since the last install.
# Vite 7 needs Node.js 20.19 or later (Debian 12's own nodejs is 18).
web=$root/gateways/dashboard
node_ok() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; }
if command -v npm >/dev/null 2>&1 && ! node_ok; then
  echo "build: Node.js $(node --version) is older than 20.19, the dashboard is not built" >&2
elif command -v npm >/dev/null 2>&1; then
  if [ ! -f "$web/node_modules/.package-lock.json" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    (cd "$web" && npm ci --no-audit --no-fund)
  fi
  (cd "$web" && npm run --silent build -- --logLevel warn)
else
  echo "build: npm not found, the dashboard is not built (tools/setup.sh installs Node.js)" >&2
fi
