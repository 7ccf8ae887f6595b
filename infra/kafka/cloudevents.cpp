#include "infra/kafka/cloudevents.hpp"

#include <unistd.h>

#include "events/event_codec.hpp"
#include "events/time.hpp"

namespace certctl::kafka {

std::string entity_id_of(const std::string& stream_id) {
  const auto dash = stream_id.find('-');
  if (dash == std::string::npos || dash + 1 == stream_id.size()) return stream_id;
  return stream_id.substr(dash + 1);
}

kafka_record to_kafka_record(const events::recorded_event& e, const std::string& source) {
  kafka_record r;
  r.key = e.stream_id;
  r.value = events::to_json(e);
  r.headers = {
      {"ce_specversion", "1.0"},
      {"ce_id", e.event_id},
      {"ce_source", source},
      {"ce_type", e.type},
      {"ce_subject", entity_id_of(e.stream_id)},
      {"ce_time", events::format_rfc3339(e.occurred_at)},
      {"content-type", "application/json"},
      {"ce_certctlposition", std::to_string(e.position)},
      {"ce_certctlschemaversion", std::to_string(e.schema_version)},
  };
  return r;
}

std::string default_source() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') return "certctl://certctl";
  return std::string("certctl://") + host;
}

}  // namespace certctl::kafka
