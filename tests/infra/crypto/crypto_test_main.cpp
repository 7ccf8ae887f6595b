// The unit test binary for infra/crypto; the cases live in the *_test.cpp files next to this.
#define BOOST_TEST_MODULE infra_crypto
#include <boost/test/unit_test.hpp>
