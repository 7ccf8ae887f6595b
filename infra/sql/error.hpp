#pragma once
/// The one error type of infra/sql: every SQLite result code and every libpqxx exception is
/// mapped here, so callers above see categories, never a backend's codes or exceptions.

#include <iosfwd>
#include <string>

#include "events/result.hpp"

namespace certctl::sql {

enum class db_errc {
  unavailable,       ///< connection lost, busy/locked, I/O: transient, worth a retry
  constraint,        ///< a constraint (unique, not null, ...) refused the statement
  query_failed,      ///< any other statement error (syntax, missing table, type mismatch)
  invalid_argument,  ///< the caller's request is malformed (bad page size, unknown name)
  bad_url,           ///< the store URL cannot be turned into a database
};
const char* to_string(db_errc c);
std::ostream& operator<<(std::ostream& os, db_errc c);

struct db_error {
  db_errc code;
  std::string message;
};

template <class T>
using db_result = result<T, db_error>;

}  // namespace certctl::sql
