#include <string>

#include "infra/sql/database.hpp"

namespace certctl::sql {

std::string translate_placeholders(std::string_view sql, sql_dialect d) {
  if (d == sql_dialect::sqlite) return std::string(sql);
  std::string out;
  out.reserve(sql.size() + 16);
  int next = 1;
  char quote = 0;  // the quote character we are inside, or 0
  for (char c : sql) {
    if (quote != 0) {
      // A doubled quote ('it''s') leaves and re-enters the literal, which this handles too.
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(next++);
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace certctl::sql
