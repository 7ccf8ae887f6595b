#define BOOST_TEST_MODULE projections
#include <boost/test/unit_test.hpp>
