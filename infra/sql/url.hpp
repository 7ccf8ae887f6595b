#pragma once
/// Database URLs, shared by the event store and the read models (they name the same
/// database): "memory:", "sqlite:///abs/path/file.db", "postgresql://..." / "postgres://...".

#include <string>

#include "infra/sql/error.hpp"

namespace certctl::sql {

struct db_url {
  enum class kind { memory, sqlite, postgres };
  kind k = kind::memory;
  std::string location;  ///< file path for sqlite, the libpq URI for postgres
};

/// A malformed URL is a `db_errc::bad_url` error naming what is wrong (password redacted).
db_result<db_url> parse_db_url(const std::string& url);

/// The URI with any password replaced by "***", for messages and logs.
std::string redact_uri(const std::string& uri);

}  // namespace certctl::sql
