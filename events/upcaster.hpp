#pragma once
/// Schema evolution: events are never rewritten in the log. When a payload's shape changes, the
/// event type gets a new schema version and an upcaster from the old version; readers pass
/// every loaded event through the registry and only ever see the current version.

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "events/event.hpp"
#include "events/result.hpp"

namespace certctl::events {

struct upcast_error {
  std::string message;
};

class upcaster_registry {
 public:
  /// Turns the payload of `type` at `from_version` into the payload at `from_version + 1`.
  using step = std::function<result<std::string, upcast_error>(const std::string& payload)>;

  /// Registers the step from `from_version` to `from_version + 1`.
  void add(const std::string& type, int from_version, step fn);

  /// Highest version reachable for `type` (1 when it has no upcasters).
  int current_version(const std::string& type) const;

  /// Applies every step from the event's version to the current one, in place.
  result<done, upcast_error> upcast(recorded_event& e) const;

 private:
  std::map<std::pair<std::string, int>, step> steps_;
  std::map<std::string, int> current_;
};

}  // namespace certctl::events
