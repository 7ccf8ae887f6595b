#pragma once
/// Read models and their queries are written against infra/sql (one SQL text for SQLite and
/// PostgreSQL); this imports its vocabulary so the queries read as SQL, not as namespaces.

#include "infra/sql/database.hpp"

namespace certctl::projections {
using sql::db_errc;
using sql::db_error;
using sql::db_result;
using sql::params;
using sql::row;
using sql::rows;
using sql::sql_dialect;
using sql::sql_value;
using sql::transaction;
}  // namespace certctl::projections
