#include "infra/kafka/detail/rdkafka.hpp"

namespace certctl::kafka::detail {

result<conf_ptr, kafka_error> make_conf(const std::vector<kafka_property>& properties) {
  conf_ptr conf(rd_kafka_conf_new());
  char err[512];
  for (const auto& p : properties) {
    if (rd_kafka_conf_set(conf.get(), p.name.c_str(), p.value.c_str(), err, sizeof(err)) !=
        RD_KAFKA_CONF_OK)
      return kafka_error{"kafka property " + p.name + ": " + err};
  }
  return conf;
}

result<handle_ptr, kafka_error> make_handle(rd_kafka_type_t type, conf_ptr conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), err, sizeof(err));
  if (rk == nullptr) return kafka_error{std::string("cannot create a kafka client: ") + err};
  conf.release();  // owned by rk now
  return handle_ptr(rk);
}

void quiet_log(const rd_kafka_t*, int, const char*, const char*) {}

int partition_count_of(rd_kafka_t* rk, const std::string& topic, std::string& error,
                       int timeout_ms) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
    return 0;
  }
  int n = 0;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    n = md->topics[0].partition_cnt;
  else if (md->topic_cnt == 1)
    error = rd_kafka_err2str(md->topics[0].err);
  rd_kafka_metadata_destroy(md);
  return n;
}

}  // namespace certctl::kafka::detail
