#pragma once
/// The PostgreSQL event store's schema: tables, the append-only trigger, and the two PL/pgSQL
/// functions of the append path (certctl_batch_state for the locked transaction,
/// certctl_append_batch for the one-statement conditional write). Idempotent: every node
/// runs it on open, under an advisory lock.

namespace certctl::store {

/// `;`-separated DDL for the simple-query protocol (no parameters).
extern const char* const postgres_schema_sql;

}  // namespace certctl::store
