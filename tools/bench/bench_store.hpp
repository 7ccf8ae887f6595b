#pragma once
/// A fresh, empty store for a benchmark run. Figures from a log that already holds data are
/// not comparable, and a benchmark must never append to somebody's real log by accident:
/// an existing SQLite file or PostgreSQL schema is refused unless --fresh deletes it.

#include <memory>
#include <string>

#include "infra/store/event_store.hpp"

namespace certctl::bench {

struct fresh_store_request {
  std::string url;        ///< sqlite:///abs/file.db or postgresql://...
  std::string pg_schema;  ///< PostgreSQL: the schema the run owns (created, or recreated)
  bool fresh = false;     ///< delete an existing file / drop an existing schema first
  store::store_options options;
};

/// Prepares the empty log and opens it; the error message says what to do.
store::store_result<std::unique_ptr<store::event_store>> open_fresh_store(
    const fresh_store_request& req);

}  // namespace certctl::bench
