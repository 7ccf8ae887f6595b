#!/usr/bin/env bash
# Configures (once) and builds the project in ./build, Release, with ccache.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export CCACHE_DIR=${CCACHE_DIR:-$root/.ccache}
if [ ! -f "$root/build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release
fi
cmake --build "$root/build" -j"$(nproc)" "$@"
