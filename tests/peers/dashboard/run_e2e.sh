#!/usr/bin/env bash
# The dashboard's tests (ctest: peer_dashboard): its vitest unit tests, then it builds the dashboard from its sources
# into a temporary directory, then drives a real certctl-server from headless Debian Chromium
# with Playwright (dashboard_e2e.mjs).
#
# Missing node, npm or Chromium: skipped (exit 77) on a developer machine, FAILED under CI=true,
# so CI can never pass without running it. Usage: run_e2e.sh BUILD_DIR [--update-screenshots]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:?usage: run_e2e.sh BUILD_DIR [--update-screenshots]}
shift
web=$root/gateways/dashboard
chromium=${CERTCTL_CHROMIUM:-/usr/bin/chromium}

missing() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 (required under CI=true; tools/setup.sh installs it)" >&2
    exit 1
  fi
  echo "SKIP: $1 (tools/setup.sh installs it)" >&2
  exit 77
}
command -v node >/dev/null || missing "node is not installed"
command -v npm >/dev/null || missing "npm is not installed"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' ||
  missing "Node.js $(node --version) is older than 20.19 (Vite 7 needs it)"
[ -x "$chromium" ] || missing "Chromium is not installed at $chromium"
command -v sqlite3 >/dev/null || missing "sqlite3 (the CLI) is not installed"
[ -x "$build/tools/server/certctl-server" ] || { echo "FAIL: no $build/tools/server/certctl-server; build it first" >&2; exit 1; }

# The lockfile pins every package; install only when node_modules is missing or stale.
if [ ! -d "$web/node_modules/playwright-core" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
  (cd "$web" && npm ci --no-audit --no-fund)
fi

# The pure modules first (SSE parser, filters, ...): seconds, and a clearer failure than a browser's.
(cd "$web" && npx vitest run --reporter=dot)

work=$(mktemp -d "${TMPDIR:-/tmp}/certctl-dashboard-e2e.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$web" && CERTCTL_DASHBOARD_OUT="$work/dist" npx vite build --logLevel warn)

export CERTCTL_E2E_SERVER="$build/tools/server/certctl-server"
export CERTCTL_E2E_DIST="$work/dist"
export CERTCTL_E2E_WORK="$work"
export CERTCTL_E2E_OUT="$build/test-output/dashboard"
export CERTCTL_CHROMIUM="$chromium"
export CERTCTL_E2E_WEB="$web"
export CERTCTL_E2E_ROOT="$root"
# Not exec: the EXIT trap removes the work dir (data, build) once node is done.
node "$here/dashboard_e2e.mjs" "$@"
