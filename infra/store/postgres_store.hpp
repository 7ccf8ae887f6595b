#pragma once
/// The production and cluster backend (PostgreSQL through infra/sql). Several server nodes may
/// append to one database: positions are allocated under a transaction-level advisory lock, so
/// commit order equals position order and a reader following positions never skips an event.

#include <memory>
#include <string>

#include "infra/store/event_store.hpp"

namespace certctl::store {

/// `uri` is any libpq connection URI ("postgresql://user@127.0.0.1:5432/db").
store_result<std::unique_ptr<event_store>> open_postgres_store(const std::string& uri,
                                                               const store_options& options);

/// The URI with any password replaced by "***", for messages and logs.
std::string redact_uri(const std::string& uri);

}  // namespace certctl::store
