#pragma once
/// The embedded default backend: one SQLite file in WAL mode with synchronous=FULL, so an
/// acknowledged append survives power loss (a CA must not lose a serial or a revocation).

#include <memory>
#include <string>

#include "infra/store/event_store.hpp"

namespace certctl::store {

/// Opens (creating if needed) the database at `path` and its schema.
store_result<std::unique_ptr<event_store>> open_sqlite_store(const std::string& path,
                                                             const store_options& options);

}  // namespace certctl::store
