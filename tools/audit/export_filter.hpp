#pragma once
/// Which events `certctl-audit export` writes: an occurred_at window and a set of types.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "events/result.hpp"

namespace certctl::audit {

struct export_filter {
  std::optional<events::timestamp_us> from;  ///< inclusive
  std::optional<events::timestamp_us> to;    ///< exclusive
  std::set<std::string> types;               ///< exact names; empty = every type

  bool matches(const events::recorded_event& e) const;
};

struct filter_error {
  std::string message;  ///< names the flag at fault
};

/// Builds a filter from the raw flag values; `types` entries may be comma-separated lists.
result<export_filter, filter_error> make_export_filter(const std::optional<std::string>& from,
                                                       const std::optional<std::string>& to,
                                                       const std::vector<std::string>& types);

}  // namespace certctl::audit
