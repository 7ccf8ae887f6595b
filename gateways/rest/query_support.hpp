#pragma once
/// What every read route needs: the paging parameters, and a query's result rendered as the
/// API's answer (a page, a document or 404, or the query's error through the status table).

#include <optional>
#include <string>

#include "gateways/http/pagination.hpp"
#include "gateways/http/router.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {

/// The page and per_page query parameters (the gateway's rules: defaults 1 and 50, per_page
/// capped at 500), or the 400 to answer in `err`.
std::optional<http::page_params> paging_of(const http::request_context& c, http::response& err);

/// The page, or the query's error (a bad filter is 400, a database failure 500 or 503).
http::response page_or_error(const sql::db_result<projections::json_page>& page);

/// The document, 404 "<what> not found" when there is none, or the query's error.
http::response doc_or_404(const sql::db_result<std::optional<std::string>>& doc,
                          const std::string& what);

}  // namespace certctl::gateways::rest
