#pragma once
/// A transaction on one sqlite_connection or pg_connection that rolls back when it goes out
/// of scope uncommitted, so an early error return can never leave a transaction open.

#include <utility>

#include "infra/sql/error.hpp"

namespace certctl::sql {

template <class Connection>
class scoped_transaction {
 public:
  static db_result<scoped_transaction> begin(Connection& c) {
    if (auto begun = c.begin(); !begun) return begun.error();
    return scoped_transaction(c);
  }

  scoped_transaction(scoped_transaction&& other) noexcept : c_(std::exchange(other.c_, nullptr)) {}
  scoped_transaction& operator=(scoped_transaction&&) = delete;
  scoped_transaction(const scoped_transaction&) = delete;
  ~scoped_transaction() { rollback(); }

  /// Ends the transaction either way; a failed commit has already rolled back.
  db_result<done> commit() {
    Connection* c = std::exchange(c_, nullptr);
    if (c == nullptr)
      return db_error{db_errc::invalid_argument, "the transaction is already finished"};
    return c->commit();
  }
  void rollback() {
    if (Connection* c = std::exchange(c_, nullptr)) c->rollback();
  }
  bool open() const { return c_ != nullptr; }

 private:
  explicit scoped_transaction(Connection& c) : c_(&c) {}
  Connection* c_;
};

}  // namespace certctl::sql
