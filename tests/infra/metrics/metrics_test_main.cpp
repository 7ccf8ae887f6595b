// The unit test binary for infra/metrics and its hooks; the cases live in the *_test.cpp files
// next to this.
#define BOOST_TEST_MODULE infra_metrics
#include <boost/test/unit_test.hpp>
