// Boost.Test entry point of gateways_rest_test: REST handlers against an in-process runtime.
#define BOOST_TEST_MODULE gateways_rest
#include <boost/test/unit_test.hpp>
