#include "projections/point_in_time.hpp"

#include <map>
#include <memory>

#include "domain/aggregate.hpp"
#include "domain/resource.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

bool is_replayable_kind(const std::string& kind) {
  return domain::make_aggregate(kind, "probe") != nullptr;
}

std::string replayable_kinds() {
  std::string out = "certificate, job";
  for (const auto& k : domain::resource_kinds()) out += ", " + k;
  return out;
}

std::string plural_kind(const std::string& kind) {
  if (!kind.empty() && kind.back() == 'y') return kind.substr(0, kind.size() - 1) + "ies";
  return kind + "s";
}

store::store_result<inventory_snapshot> inventory_as_of(store::event_store& store,
                                                        const std::string& kind,
                                                        events::timestamp_us until,
                                                        std::size_t page_size) {
  if (!is_replayable_kind(kind))
    return store::store_error{store::store_errc::invalid_argument,
                              "unknown kind \"" + kind + "\" (known: " + replayable_kinds() + ")"};
  inventory_snapshot out;
  out.as_of = until;
  out.kind = kind;
  std::map<std::string, std::unique_ptr<domain::aggregate>> entities;  // by id: sorted output
  std::int64_t next = 1;
  for (bool more = true; more;) {
    auto page = store.read_all(next, page_size);
    if (!page) return page.error();
    for (const auto& e : *page) {
      if (e.occurred_at > until) {
        more = false;
        break;
      }
      ++out.events_read;
      out.position = e.position;
      next = e.position + 1;
      // Other kinds, and streams no aggregate owns (e.g. auth failures), are not part of this
      // inventory; skipping them is what lets one walk serve every kind.
      auto [stream_kind, id] = split_stream_id(e.stream_id);
      if (stream_kind != kind) continue;
      auto& agg = entities[id];
      if (!agg) agg = domain::make_aggregate(kind, id);
      agg->apply(e);
    }
    if (page->size() < page_size) more = false;
  }
  for (const auto& [id, agg] : entities)
    if (agg->exists()) out.entities.push_back(agg->view());  // else deleted, or never created
  return out;
}

std::string inventory_json(const inventory_snapshot& s) {
  // Written directly rather than through json_object so the inventory is not copied again;
  // as_of and the kind need no escaping (a formatted time and a validated kind name).
  std::string out = "{\"as_of\":\"" + events::format_rfc3339(s.as_of) + "\",\"kind\":\"" + s.kind +
                    "\",\"position\":" + std::to_string(s.position) + ",\"" + plural_kind(s.kind) +
                    "\":[";
  bool first = true;
  for (const auto& v : s.entities) {
    if (!first) out += ',';
    first = false;
    out += v.dump();
  }
  out += "],\"total\":" + std::to_string(s.entities.size()) + "}";
  return out;
}

}  // namespace certctl::projections
