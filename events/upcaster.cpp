#include "events/upcaster.hpp"

#include <algorithm>

namespace certctl::events {

void upcaster_registry::add(const std::string& type, int from_version, step fn) {
  steps_[{type, from_version}] = std::move(fn);
  int& cur = current_[type];
  cur = std::max({cur, 1, from_version + 1});
}

int upcaster_registry::current_version(const std::string& type) const {
  auto it = current_.find(type);
  return it == current_.end() ? 1 : it->second;
}

result<done, upcast_error> upcaster_registry::upcast(recorded_event& e) const {
  const int target = current_version(e.type);
  if (e.schema_version > target) {
    return upcast_error{"event " + e.event_id + " of type " + e.type + " has schema version " +
                        std::to_string(e.schema_version) + ", newer than this build knows (" +
                        std::to_string(target) + ")"};
  }
  while (e.schema_version < target) {
    auto it = steps_.find({e.type, e.schema_version});
    if (it == steps_.end()) {
      return upcast_error{"no upcaster for " + e.type + " v" + std::to_string(e.schema_version)};
    }
    auto next = it->second(e.payload);
    if (!next) return next.error();
    e.payload = std::move(next).value();
    ++e.schema_version;
  }
  return done{};
}

}  // namespace certctl::events
