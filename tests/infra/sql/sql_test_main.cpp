#define BOOST_TEST_MODULE infra_sql
#include <boost/test/unit_test.hpp>
