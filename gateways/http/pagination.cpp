#include "gateways/http/pagination.hpp"

#include <optional>

#include "gateways/http/json.hpp"

namespace certctl::gateways::http {
namespace {

/// Decimal digits only (no sign, no spaces); values beyond `cap` come back as cap + 1 so
/// "too large" is reported without overflowing.
std::optional<std::int64_t> parse_count(std::string_view text, std::int64_t cap) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    if (v <= cap) v = v * 10 + (c - '0');
  }
  return v > cap ? cap + 1 : v;
}

const std::string* first_value(const query_map& query, const std::string& name) {
  const auto it = query.find(name);
  if (it == query.end() || it->second.empty()) return nullptr;
  return &it->second;
}

}  // namespace

certctl::result<page_params, api_error> parse_page_params(const query_map& query) {
  page_params p;
  if (const auto* raw = first_value(query, "page")) {
    const auto v = parse_count(*raw, max_page);
    if (!v) return api_error{400, "query parameter 'page' must be a positive integer"};
    if (*v < 1) return api_error{400, "query parameter 'page' must be >= 1"};
    if (*v > max_page) {
      return api_error{400, "query parameter 'page' must be <= " + std::to_string(max_page)};
    }
    p.page = *v;
  }
  if (const auto* raw = first_value(query, "per_page")) {
    const auto v = parse_count(*raw, max_per_page);
    if (!v) return api_error{400, "query parameter 'per_page' must be a positive integer"};
    if (*v < 1) return api_error{400, "query parameter 'per_page' must be >= 1"};
    p.per_page = *v > max_per_page ? max_per_page : *v;
  }
  return p;
}

std::string render_page(std::string_view data_array_json, std::int64_t total,
                        const page_params& params) {
  json_writer w;
  w.begin_object();
  w.key("data").raw(data_array_json);
  w.field("total", total).field("page", params.page).field("per_page", params.per_page);
  w.end_object();
  return w.str();
}

std::string render_page(const std::vector<std::string>& item_json, std::int64_t total,
                        const page_params& params) {
  std::string array = "[";
  for (std::size_t i = 0; i < item_json.size(); ++i) {
    if (i) array += ',';
    array += item_json[i];
  }
  array += ']';
  return render_page(array, total, params);
}

}  // namespace certctl::gateways::http
