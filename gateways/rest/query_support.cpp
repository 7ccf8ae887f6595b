#include "gateways/rest/query_support.hpp"

#include "gateways/rest/command_support.hpp"

namespace certctl::gateways::rest {

std::optional<http::page_params> paging_of(const http::request_context& c, http::response& err) {
  auto p = http::parse_page_params(c.query_params());
  if (!p) {
    err = http::to_response(p.error());
    return std::nullopt;
  }
  return *p;
}

http::response page_or_error(const sql::db_result<projections::json_page>& page) {
  if (!page) return error_response(page.error());
  return http::json_response(projections::page_json(*page));
}

http::response doc_or_404(const sql::db_result<std::optional<std::string>>& doc,
                          const std::string& what) {
  if (!doc) return error_response(doc.error());
  if (!doc->has_value()) return http::error_response(404, what + " not found");
  return http::json_response(**doc);
}

}  // namespace certctl::gateways::rest
