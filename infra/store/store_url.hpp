#pragma once
/// Store URLs: "memory:", "sqlite:///abs/path/file.db", "postgresql://..." / "postgres://...".

#include <string>

#include "infra/store/event_store.hpp"

namespace certctl::store {

struct store_url {
  enum class kind { memory, sqlite, postgres };
  kind k = kind::memory;
  std::string location;  ///< file path for sqlite, the libpq URI for postgres
};

store_result<store_url> parse_store_url(const std::string& url);

}  // namespace certctl::store
