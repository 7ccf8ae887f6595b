// The events folder's test binary: envelope encodings, time, schema evolution.
#define BOOST_TEST_MODULE events
#include <boost/test/unit_test.hpp>
