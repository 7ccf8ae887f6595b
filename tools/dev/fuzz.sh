#!/usr/bin/env bash
# Coverage-guided fuzzing: builds every libFuzzer target of tests/fuzz with clang under
# ASan/UBSan in a separate build dir (build-fuzz, -DCERTCTL_FUZZ=ON) and runs each for a bounded
# time. Exit 0 only when every target ran its time without a crash, leak, sanitizer report or
# timeout; a finding leaves its input in build-fuzz/fuzz-artifacts/ (replay:
# build-fuzz/tests/fuzz/fuzz_<target> <file>).
#
# Usage: tools/dev/fuzz.sh [SECONDS_PER_TARGET [TARGET...]]   (default 60 s, every target)
# Environment: CERTCTL_FUZZ_BUILD_DIR (default build-fuzz), CERTCTL_FUZZ_JOBS (build -j, 2).
# Corpora persist in build-fuzz/fuzz-corpus/<target> between runs. Needs clang and
# libclang-rt-dev, installed here on first use (not by tools/setup.sh: the test suite does not
# need them, and CI stays lean).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

seconds=${1:-60}
shift || true
build=${CERTCTL_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${CERTCTL_FUZZ_JOBS:-2}
export CCACHE_DIR=${CCACHE_DIR:-$root/.ccache}

if ! command -v clang++ >/dev/null || ! dpkg-query -W -f='${Status}' libclang-rt-dev 2>/dev/null | grep -q "install ok installed"; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  echo "fuzz.sh: installing clang libclang-rt-dev"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends \
    clang libclang-rt-dev >/dev/null
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
  mkdir -p "$build"
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCERTCTL_FUZZ=ON >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
fi
# The target list is CMake's (tests/fuzz/CMakeLists.txt), so the script never falls behind it.
all_targets=$(sed -n 's/^CERTCTL_FUZZ_TARGET_LIST:INTERNAL=//p' "$build/CMakeCache.txt" | tr ';' ' ')
[ -n "$all_targets" ] || { echo "fuzz.sh: no CERTCTL_FUZZ_TARGET_LIST in $build" >&2; exit 1; }
targets=${*:-$all_targets}

binaries=(fuzz_corpus_test fuzz_scep_corpus_test)
for t in $targets; do binaries+=("fuzz_$t"); done
echo "fuzz.sh: building ${#binaries[@]} targets in $build"
cmake --build "$build" -j"$jobs" --target "${binaries[@]}" >"$build/build.log" 2>&1 \
  || { tail -n 50 "$build/build.log" >&2; exit 1; }

# Stop at the first sanitizer report; leaks are findings too. ubsan.supp lists the known
# defects of system headers (one, in RapidJSON 1.1.0) that are not ours to fix.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$root/tests/fuzz/ubsan.supp}

failed=0
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-logs"
# Seeds: the inputs fuzz_corpus_test starts from (real JWS, OCSP requests, tls-alpn-01
# certificates, cluster commands, ...), written out by that test under the sanitizers.
rm -rf "$build/fuzz-seeds"
CERTCTL_FUZZ_SEED_DIR="$build/fuzz-seeds" "$build/tests/fuzz/fuzz_corpus_test" \
  >"$build/fuzz-logs/fuzz_corpus_test.log" 2>&1 \
  || { echo "fuzz.sh: fuzz_corpus_test failed under the sanitizers (log $build/fuzz-logs/fuzz_corpus_test.log)" >&2; failed=1; }
CERTCTL_FUZZ_SEED_DIR="$build/fuzz-seeds" "$build/tests/fuzz/fuzz_scep_corpus_test" \
  >"$build/fuzz-logs/fuzz_scep_corpus_test.log" 2>&1 \
  || { echo "fuzz.sh: fuzz_scep_corpus_test failed under the sanitizers (log $build/fuzz-logs/fuzz_scep_corpus_test.log)" >&2; failed=1; }

printf '%-26s %8s %12s %10s %8s %s\n' target seconds executions exec/s corpus result
for t in $targets; do
  corpus="$build/fuzz-corpus/$t"
  log="$build/fuzz-logs/$t.log"
  mkdir -p "$corpus" "$build/fuzz-seeds/$t"
  rc=0
  started=$SECONDS
  "$build/tests/fuzz/fuzz_$t" "$corpus" "$build/fuzz-seeds/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$t-" \
    >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  units=$(find "$corpus" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc, log $log)"
    failed=1
  fi
  printf '%-26s %8s %12s %10s %8s %s\n' "$t" "$((SECONDS - started))" "${execs:-?}" "${rate:-?}" "$units" "$result"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: findings; inputs in $build/fuzz-artifacts" >&2
  exit 1
fi
echo "fuzz.sh: all targets ran ${seconds} s each, no crash"
