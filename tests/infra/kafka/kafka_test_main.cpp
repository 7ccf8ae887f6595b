// Integration tests of infra/kafka against librdkafka's mock cluster (in process, and the
// certctl-mock-kafka tool with kcat); the cases live in the *_test.cpp files next to this.
#define BOOST_TEST_MODULE infra_kafka
#include <boost/test/unit_test.hpp>
