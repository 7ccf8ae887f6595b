#!/usr/bin/env bash
# Installs every Debian package the project needs to build, test and run. Idempotent and
# non-interactive: packages already present are not touched, and apt-get runs only if
# something is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config ccache clang-format
  # libraries (DESIGN: all from Debian 12)
  libcaf-dev libpqxx-dev libpq-dev librdkafka-dev rapidjson-dev libcpp-httplib-dev
  prometheus-cpp-dev libboost-test-dev libsqlite3-dev libssl-dev zlib1g-dev libbrotli-dev
  # tcmalloc (minimal) as certctl-server's allocator (docs/benchmarks.md, 2026-12-04)
  libgoogle-perftools-dev
  # peers used by tests and the run script
  postgresql sqlite3 openssl curl ca-certificates procps
  # tests/integration/spec_check.py (responses against the OpenAPI schemas)
  python3 python3-yaml
  # Kafka CLI client: tests read the relay's topic and write raw records with it
  kcat
  # ACME clients the peer tests drive against the ACME server (tests/peers); under CI=true a
  # missing client fails its test instead of skipping it
  certbot lego
  # the web dashboard: Node.js builds it (gateways/dashboard), Chromium runs its browser test
  nodejs chromium
  # deployment targets the agent tests deploy to, each started by its test on a loopback port
  # with a throwaway config (tests/connectors/targets); keytool comes with the JDK
  nginx apache2 haproxy caddy postfix dovecot-imapd openssh-server libssh-dev
  openjdk-17-jdk-headless
  # enrollment and ACME peers: micromdm's scepclient, certmonger's scep-submit, pebble
  scep certmonger pebble
  # SMTP peer for the email notifier tests
  python3-aiosmtpd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm: Debian's package only where the installed Node.js does not bring its own (NodeSource's
# nodejs includes npm and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
# Daemon packages (nginx, apache2, postfix, sshd, ...) start their service on install, on every
# interface. Tests start their own instances on loopback, so forbid service starts while
# installing (policy-rc.d exit 101), unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 0755 "$policy"
  trap '"${sudo_cmd[@]}" rm -f "$policy"' EXIT
fi
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
