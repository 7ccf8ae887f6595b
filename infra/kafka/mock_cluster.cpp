#include "infra/kafka/mock_cluster.hpp"

#include <algorithm>

#include "infra/kafka/detail/rdkafka.hpp"
// After rdkafka.h, as it requires.
#include <librdkafka/rdkafka_mock.h>

namespace certctl::kafka {

struct mock_cluster::impl {
  detail::handle_ptr owner;  ///< the client the mock cluster is attached to (bookkeeping only)
  rd_kafka_mock_cluster_t* cluster = nullptr;
  int brokers = 0;

  ~impl() {
    // The cluster must go before the client that hosts it.
    if (cluster != nullptr) rd_kafka_mock_cluster_destroy(cluster);
  }
};

namespace {
result<done, kafka_error> check(rd_kafka_resp_err_t err, const std::string& what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return done{};
  return kafka_error{"mock cluster: " + what + ": " + rd_kafka_err2str(err)};
}
}  // namespace

mock_cluster::mock_cluster(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
mock_cluster::~mock_cluster() = default;

result<std::unique_ptr<mock_cluster>, kafka_error> mock_cluster::start(int brokers) {
  if (brokers < 1) return kafka_error{"mock cluster: need at least one broker"};
  auto conf = detail::make_conf({{"client.id", "certctl-mock-cluster"}});
  if (!conf) return conf.error();
  rd_kafka_conf_set_log_cb(conf->get(), detail::quiet_log);
  auto rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk) return rk.error();
  auto p = std::make_unique<impl>();
  p->owner = std::move(rk).value();
  p->cluster = rd_kafka_mock_cluster_new(p->owner.get(), brokers);
  if (p->cluster == nullptr) return kafka_error{"mock cluster: cannot start the brokers"};
  p->brokers = brokers;
  return std::unique_ptr<mock_cluster>(new mock_cluster(std::move(p)));
}

std::string mock_cluster::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(impl_->cluster);
}

result<done, kafka_error> mock_cluster::create_topic(const std::string& topic, int partitions,
                                                     int replication) {
  if (partitions < 1) return kafka_error{"mock cluster: need at least one partition"};
  return check(rd_kafka_mock_topic_create(impl_->cluster, topic.c_str(), partitions,
                                          std::clamp(replication, 1, impl_->brokers)),
               "creating topic " + topic);
}

result<done, kafka_error> mock_cluster::set_down(std::int32_t broker_id) {
  if (broker_id >= 0)
    return check(rd_kafka_mock_broker_set_down(impl_->cluster, broker_id), "down");
  // One by one: the header documents -1 as "all", but not every mock command honours it.
  for (int id = 1; id <= impl_->brokers; ++id)
    if (auto r = check(rd_kafka_mock_broker_set_down(impl_->cluster, id), "down"); !r) return r;
  return done{};
}

result<done, kafka_error> mock_cluster::set_up(std::int32_t broker_id) {
  if (broker_id >= 0) return check(rd_kafka_mock_broker_set_up(impl_->cluster, broker_id), "up");
  for (int id = 1; id <= impl_->brokers; ++id)
    if (auto r = check(rd_kafka_mock_broker_set_up(impl_->cluster, id), "up"); !r) return r;
  return done{};
}

}  // namespace certctl::kafka
