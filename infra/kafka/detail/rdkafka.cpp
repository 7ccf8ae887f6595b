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

}  // namespace certctl::kafka::detail
