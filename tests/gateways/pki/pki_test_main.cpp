// One test module for gateways/pki (listener, parser).
#define BOOST_TEST_MODULE gateways_pki
#include <boost/test/unit_test.hpp>
