#include "tools/audit/export_filter.hpp"

#include "events/time.hpp"

namespace certctl::audit {

bool export_filter::matches(const events::recorded_event& e) const {
  if (from && e.occurred_at < *from) return false;
  if (to && e.occurred_at >= *to) return false;
  return types.empty() || types.count(e.type) != 0;
}

result<export_filter, filter_error> make_export_filter(const std::optional<std::string>& from,
                                                       const std::optional<std::string>& to,
                                                       const std::vector<std::string>& types) {
  export_filter f;
  auto time_flag = [](const char* flag,
                      const std::string& text) -> result<events::timestamp_us, filter_error> {
    auto t = events::parse_rfc3339(text);
    if (!t)
      return filter_error{std::string("flag --") + flag + ": \"" + text +
                          "\" is not an RFC 3339 time (e.g. 2026-11-27T08:00:00Z)"};
    return *t;
  };
  if (from) {
    auto t = time_flag("from", *from);
    if (!t) return t.error();
    f.from = *t;
  }
  if (to) {
    auto t = time_flag("to", *to);
    if (!t) return t.error();
    f.to = *t;
  }
  // An empty window is always a mistake in the command line, never a useful export.
  if (f.from && f.to && *f.from >= *f.to)
    return filter_error{"flag --to must be later than --from"};
  for (const auto& list : types) {
    size_t start = 0;
    for (;;) {
      const size_t comma = list.find(',', start);
      const std::string t = list.substr(start, comma == std::string::npos ? comma : comma - start);
      if (t.empty()) return filter_error{"flag --type: empty type name in \"" + list + "\""};
      f.types.insert(t);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return f;
}

}  // namespace certctl::audit
