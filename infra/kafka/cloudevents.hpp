#pragma once
/// How a recorded event becomes a Kafka record: CloudEvents 1.0, Kafka protocol binding,
/// **binary content mode**.
///
///   key      the stream id ("certificate-mc-42"), so one entity's events share a partition and
///            keep their order
///   value    the certctl event as JSON (events::to_json: the envelope with the payload
///            embedded), byte for byte what GET /api/v1/events and the audit export carry
///   headers  ce_specversion  "1.0"
///            ce_id           event_id (stable across redeliveries: consumers de-duplicate by it)
///            ce_source       "certctl://<instance>"
///            ce_type         event type, e.g. "certificate.issued"
///            ce_subject      entity id (the stream id after "<kind>-")
///            ce_time         occurred_at, RFC 3339 UTC with microseconds
///            content-type    "application/json" (the binding's datacontenttype)
///            ce_certctlposition       global log position (decimal)
///            ce_certctlschemaversion  payload schema version (decimal)
///
/// Why binary mode: routers and filters read the ce_* headers without parsing the value, and
/// the value stays the one JSON shape every other certctl consumer already reads. Why the whole
/// envelope rather than only the payload: stream_version, principal, correlation and the hash
/// chain are part of the fact; a consumer should not need a second lookup to audit it.
/// Extension names are lowercase alphanumeric, as CloudEvents 1.0 requires.

#include <string>
#include <utility>
#include <vector>

#include "events/event.hpp"

namespace certctl::kafka {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct kafka_record {
  std::string key;
  std::string value;
  header_list headers;
};

/// The entity id of a stream id "<kind>-<entity id>"; the whole id when it has no kind.
std::string entity_id_of(const std::string& stream_id);

/// The record for `e`; `source` is the ce_source attribute.
kafka_record to_kafka_record(const events::recorded_event& e, const std::string& source);

/// The default ce_source: "certctl://<hostname>".
std::string default_source();

}  // namespace certctl::kafka
