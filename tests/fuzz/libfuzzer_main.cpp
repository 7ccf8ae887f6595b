// One libFuzzer binary per target; CERTCTL_FUZZ_TARGET selects which (set by CMake).
#include "tests/fuzz/fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return certctl::fuzz::CERTCTL_FUZZ_TARGET(data, size);
}
