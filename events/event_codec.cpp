#include "events/event_codec.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "events/time.hpp"

namespace certctl::events {

std::string to_json(const recorded_event& e) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("position");
  w.Int64(e.position);
  str("stream_id", e.stream_id);
  w.Key("stream_version");
  w.Int64(e.stream_version);
  str("event_id", e.event_id);
  str("type", e.type);
  w.Key("schema_version");
  w.Int(e.schema_version);
  str("occurred_at", format_rfc3339(e.occurred_at));
  str("principal", e.principal);
  str("source_address", e.source_address);
  str("correlation_id", e.correlation_id);
  str("causation_id", e.causation_id);
  w.Key("payload");
  w.RawValue(e.payload.data(), e.payload.size(), rapidjson::kObjectType);
  str("prev_hash", e.prev_hash);
  str("hash", e.hash);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

namespace {
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}
}  // namespace

std::string csv_header() {
  return "position,stream_id,stream_version,event_id,type,schema_version,occurred_at,principal,"
         "source_address,correlation_id,causation_id,payload,prev_hash,hash";
}

std::string to_csv_row(const recorded_event& e) {
  std::string row;
  row += std::to_string(e.position) + ',' + csv_field(e.stream_id) + ',' +
         std::to_string(e.stream_version) + ',' + csv_field(e.event_id) + ',' + csv_field(e.type) +
         ',' + std::to_string(e.schema_version) + ',' + format_rfc3339(e.occurred_at) + ',' +
         csv_field(e.principal) + ',' + csv_field(e.source_address) + ',' +
         csv_field(e.correlation_id) + ',' + csv_field(e.causation_id) + ',' +
         csv_field(e.payload) + ',' + e.prev_hash + ',' + e.hash;
  return row;
}

}  // namespace certctl::events
