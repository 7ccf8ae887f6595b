#pragma once
/// Store URLs: "memory:", "sqlite:///abs/path/file.db", "postgresql://..." / "postgres://...".
/// Parsed once, in infra/sql/url.hpp (the read models open the same URL); this is the
/// store's view of it, with store errors.

#include <string>

#include "infra/sql/url.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::store {

using store_url = sql::db_url;

store_result<store_url> parse_store_url(const std::string& url);

}  // namespace certctl::store
