#include "infra/sql/error.hpp"

#include <charconv>
#include <ostream>

#include "infra/sql/row.hpp"

namespace certctl::sql {

const char* to_string(db_errc c) {
  switch (c) {
    case db_errc::unavailable:
      return "unavailable";
    case db_errc::constraint:
      return "constraint";
    case db_errc::query_failed:
      return "query_failed";
    case db_errc::invalid_argument:
      return "invalid_argument";
    case db_errc::bad_url:
      return "bad_url";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, db_errc c) {
  return os << to_string(c);
}

std::optional<std::string> row::text(size_t i) const {
  const auto& v = columns_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  return std::nullopt;
}

std::optional<std::int64_t> row::int64(size_t i) const {
  const auto& v = columns_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) {
    std::int64_t out = 0;
    const char* end = s->data() + s->size();
    auto [p, ec] = std::from_chars(s->data(), end, out);
    if (ec == std::errc() && p == end && !s->empty()) return out;
  }
  return std::nullopt;
}

}  // namespace certctl::sql
