#pragma once
/// List pagination as the reference API defines it: `page` (default 1, minimum 1) and `per_page`
/// (default 50, minimum 1, maximum 500), answered with the envelope
/// `{"data": [...], "total": N, "page": P, "per_page": PP}`.
///
/// Policy (the spec gives bounds but no error for exceeding them): a `per_page` above 500 is
/// clamped to 500, like the reference server, so generous clients still get a page; a value that
/// is not a non-negative decimal integer, `page` < 1 or `per_page` < 1 is a 400. An empty value
/// (`?page=`) counts as absent. The envelope echoes the values actually used.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"
#include "gateways/http/http_types.hpp"

namespace certctl::gateways::http {

inline constexpr std::int64_t default_per_page = 50;
inline constexpr std::int64_t max_per_page = 500;
/// Far beyond any real list; keeps offset arithmetic (page * per_page) from overflowing.
inline constexpr std::int64_t max_page = 1'000'000'000;

struct page_params {
  std::int64_t page = 1;
  std::int64_t per_page = default_per_page;

  /// Zero-based index of the page's first item.
  std::int64_t offset() const { return (page - 1) * per_page; }
};

/// Reads `page` and `per_page` from the query (first value of each wins).
certctl::result<page_params, api_error> parse_page_params(const query_map& query);

/// The envelope around an already serialised JSON array (e.g. "[{...},{...}]").
std::string render_page(std::string_view data_array_json, std::int64_t total,
                        const page_params& params);

/// The envelope around already serialised JSON items.
std::string render_page(const std::vector<std::string>& item_json, std::int64_t total,
                        const page_params& params);

}  // namespace certctl::gateways::http
