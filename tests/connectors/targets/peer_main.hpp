#pragma once
/// The main of a per-daemon target test (define BOOST_TEST_MODULE and BOOST_TEST_NO_MAIN
/// before including Boost.Test): a missing daemon skips the test with exit code 77, which
/// tests/connectors/targets/CMakeLists.txt turns into a failure under CI=true.

#include <iostream>
#include <string>

#include "tests/connectors/targets/target_fixture.hpp"

#define CERTCTL_TARGET_PEER_MAIN(program)                                                       \
  int main(int argc, char* argv[]) {                                                            \
    if (!certctl::testing::targets::have_program(program)) {                                    \
      std::cout << "SKIP: " << (program) << " is not installed (tools/setup.sh installs it)\n"; \
      return certctl::testing::targets::skip_exit_code;                                         \
    }                                                                                           \
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);                       \
  }
