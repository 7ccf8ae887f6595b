#include "infra/kafka/topic_reader.hpp"

#include <thread>

#include "infra/kafka/detail/rdkafka.hpp"

namespace certctl::kafka {

struct topic_reader::impl {
  detail::handle_ptr consumer;
  int partitions = 0;

  ~impl() {
    if (consumer) rd_kafka_consumer_close(consumer.get());
  }
};

std::optional<std::string> consumed_record::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return std::nullopt;
}

topic_reader::topic_reader(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
topic_reader::~topic_reader() = default;

int topic_reader::partition_count() const {
  return impl_->partitions;
}

result<std::unique_ptr<topic_reader>, kafka_error> topic_reader::open(
    const std::string& bootstrap_servers, const std::string& topic,
    const std::vector<kafka_property>& properties, std::chrono::milliseconds metadata_timeout) {
  std::vector<kafka_property> props = {
      {"bootstrap.servers", bootstrap_servers},
      {"group.id", "certctl-topic-reader"},  // required by the consumer API; never joined
      {"enable.auto.commit", "false"},
      {"enable.partition.eof", "false"},
      {"allow.auto.create.topics", "false"},
      {"fetch.wait.max.ms", "10"},
  };
  props.insert(props.end(), properties.begin(), properties.end());
  auto conf = detail::make_conf(props);
  if (!conf) return conf.error();
  rd_kafka_conf_set_log_cb(conf->get(), detail::quiet_log);
  auto rk = detail::make_handle(RD_KAFKA_CONSUMER, std::move(conf).value());
  if (!rk) return rk.error();
  auto p = std::make_unique<impl>();
  p->consumer = std::move(rk).value();
  rd_kafka_poll_set_consumer(p->consumer.get());

  const auto deadline = std::chrono::steady_clock::now() + metadata_timeout;
  std::string error = "not found";
  while ((p->partitions = detail::partition_count_of(p->consumer.get(), topic, error)) == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      return kafka_error{"topic " + topic + ": " + error};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(p->partitions);
  for (int i = 0; i < p->partitions; ++i)
    rd_kafka_topic_partition_list_add(list, topic.c_str(), i)->offset = RD_KAFKA_OFFSET_BEGINNING;
  const rd_kafka_resp_err_t err = rd_kafka_assign(p->consumer.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return kafka_error{"assigning " + topic + ": " + rd_kafka_err2str(err)};
  return std::unique_ptr<topic_reader>(new topic_reader(std::move(p)));
}

result<std::optional<consumed_record>, kafka_error> topic_reader::poll(
    std::chrono::milliseconds timeout) {
  rd_kafka_message_t* m =
      rd_kafka_consumer_poll(impl_->consumer.get(), static_cast<int>(timeout.count()));
  if (m == nullptr) return std::optional<consumed_record>{};
  struct guard {
    rd_kafka_message_t* m;
    ~guard() { rd_kafka_message_destroy(m); }
  } g{m};
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Broker outages surface here as transport errors; the client reconnects by itself.
    if (m->err == RD_KAFKA_RESP_ERR__TRANSPORT || m->err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
        m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
      return std::optional<consumed_record>{};
    return kafka_error{std::string("consuming: ") + rd_kafka_message_errstr(m)};
  }
  consumed_record r;
  if (m->key != nullptr) r.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload != nullptr) r.value.assign(static_cast<const char*>(m->payload), m->len);
  r.partition = m->partition;
  r.offset = m->offset;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i)
      r.headers.emplace_back(name, value ? std::string(static_cast<const char*>(value), size) : "");
  }
  return std::optional<consumed_record>(std::move(r));
}

}  // namespace certctl::kafka
