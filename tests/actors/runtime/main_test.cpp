// Boost.Test entry point of actors_test (the runtime, workflows and schedulers).
#define BOOST_TEST_MODULE actors
#include <boost/test/unit_test.hpp>
