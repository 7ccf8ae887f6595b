// libpqxx 6 under pg_connection. Every libpqxx (and std) exception stops in this file and
// becomes a db_error.

#include "infra/sql/postgres.hpp"

#include <pqxx/pqxx>

#include <unordered_map>

#include "infra/sql/url.hpp"

namespace certctl::sql {
namespace {

// Type OIDs from pg_type.h, so integer columns come back as integers.
constexpr pqxx::oid int8_oid = 20;
constexpr pqxx::oid int2_oid = 21;
constexpr pqxx::oid int4_oid = 23;

/// Maps an exception; `broken` is set when the connection cannot be used again.
db_error pg_error(const std::exception& ex, const char* what, bool& broken) {
  db_errc code = db_errc::query_failed;
  if (dynamic_cast<const pqxx::broken_connection*>(&ex) != nullptr) {
    broken = true;
    code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::transaction_rollback*>(&ex) != nullptr) {
    // Serialization failure, deadlock (SQLSTATE 40): the server rolled the transaction back;
    // running it again can succeed. libpqxx 6 does not derive these from sql_error, so the
    // SQLSTATE check below would miss them.
    code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&ex) != nullptr) {
    code = db_errc::constraint;
  } else if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&ex)) {
    // SQLSTATE classes that describe the server, not the statement: connection (08),
    // serialization/deadlock (40), resources (53), operator intervention (57).
    const std::string cls = sql->sqlstate().substr(0, 2);
    if (cls == "08" || cls == "40" || cls == "53" || cls == "57") code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::in_doubt_error*>(&ex) != nullptr) {
    code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::usage_error*>(&ex) != nullptr ||
             dynamic_cast<const pqxx::argument_error*>(&ex) != nullptr) {
    code = db_errc::invalid_argument;
  }
  return {code, std::string("postgres ") + what + ": " + ex.what()};
}

rows to_rows(const pqxx::result& r) {
  rows out;
  out.reserve(r.size());
  const auto ncols = r.columns();
  std::vector<bool> integer(ncols);
  for (pqxx::row::size_type i = 0; i < ncols; ++i) {
    const pqxx::oid t = r.column_type(i);
    integer[i] = t == int8_oid || t == int4_oid || t == int2_oid;
  }
  for (const auto& pr : r) {
    std::vector<sql_value> cols;
    cols.reserve(ncols);
    for (pqxx::row::size_type i = 0; i < ncols; ++i) {
      const pqxx::field f = pr[i];
      if (f.is_null())
        cols.emplace_back(std::monostate{});
      else if (integer[i])
        cols.emplace_back(f.as<std::int64_t>());
      else
        cols.emplace_back(std::string(f.c_str(), f.size()));
    }
    out.emplace_back(std::move(cols));
  }
  return out;
}

/// libpq takes parameters as C strings, a null pointer meaning SQL NULL.
class text_params {
 public:
  explicit text_params(const params& p) {
    storage_.reserve(p.size());
    ptrs_.reserve(p.size());
    for (const auto& v : p) {
      if (const auto* n = std::get_if<std::int64_t>(&v))
        storage_.push_back(std::to_string(*n));
      else if (const auto* s = std::get_if<std::string>(&v))
        storage_.push_back(*s);
      else
        storage_.emplace_back();
    }
    for (size_t i = 0; i < p.size(); ++i)
      ptrs_.push_back(std::holds_alternative<std::monostate>(p[i]) ? nullptr : storage_[i].c_str());
  }
  auto dynamic() const { return pqxx::prepare::make_dynamic_params(ptrs_); }

 private:
  std::vector<std::string> storage_;
  std::vector<const char*> ptrs_;
};

}  // namespace

struct pg_connection::impl {
  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<pqxx::work> tx;
  std::unordered_map<std::string, std::string> prepared;  ///< SQL text -> statement name
  bool broken = false;

  pqxx::result run_prepared(pqxx::transaction_base& t, const std::string& sql, const params& p) {
    auto it = prepared.find(sql);
    if (it == prepared.end()) {
      // libpqxx prepares on first execution and again after it reconnects by itself.
      std::string name = "certctl_" + std::to_string(prepared.size() + 1);
      conn->prepare(name, sql);
      it = prepared.emplace(sql, std::move(name)).first;
    }
    if (p.empty()) return t.exec_prepared(it->second);
    return t.exec_prepared(it->second, text_params(p).dynamic());
  }

  static pqxx::result run_once(pqxx::transaction_base& t, const std::string& sql, const params& p) {
    // Always exec_params, even without parameters: libpqxx 6's exec() marks the whole
    // transaction failed on an error, which would make savepoints useless.
    if (p.empty()) return t.exec_params(sql);
    return t.exec_params(sql, text_params(p).dynamic());
  }

  /// Runs `fn` in the open transaction, or in a one-statement autocommit one.
  template <class T, class Fn>
  db_result<T> run(const char* what, Fn&& fn) {
    try {
      if (tx) return fn(*tx);
      pqxx::nontransaction auto_tx(*conn);
      return fn(auto_tx);
    } catch (const std::exception& ex) {
      return pg_error(ex, what, broken);
    }
  }

  void abandon() {
    try {
      if (tx) tx->abort();
    } catch (const std::exception&) {
      broken = true;  // an abort that fails leaves the connection in an unknown state
    }
    tx.reset();
  }
};

pg_connection::pg_connection(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

pg_connection::~pg_connection() {
  try {
    impl_->abandon();
    impl_->conn.reset();
  } catch (...) {
    // Closing a dead connection may throw; nothing more to do with it.
  }
}

db_result<std::unique_ptr<pg_connection>> pg_connection::connect(const std::string& uri) {
  try {
    auto i = std::make_unique<impl>();
    i->conn = std::make_unique<pqxx::connection>(uri);
    return std::unique_ptr<pg_connection>(new pg_connection(std::move(i)));
  } catch (const std::exception& ex) {
    return db_error{db_errc::unavailable,
                    "cannot connect to PostgreSQL " + redact_uri(uri) + ": " + ex.what()};
  }
}

db_result<std::int64_t> pg_connection::exec(const std::string& sql, const params& p) {
  return impl_->run<std::int64_t>("exec", [&](pqxx::transaction_base& t) {
    return static_cast<std::int64_t>(impl_->run_prepared(t, sql, p).affected_rows());
  });
}

db_result<rows> pg_connection::query(const std::string& sql, const params& p) {
  return impl_->run<rows>(
      "query", [&](pqxx::transaction_base& t) { return to_rows(impl_->run_prepared(t, sql, p)); });
}

db_result<std::int64_t> pg_connection::exec_once(const std::string& sql, const params& p) {
  return impl_->run<std::int64_t>("exec", [&](pqxx::transaction_base& t) {
    return static_cast<std::int64_t>(impl::run_once(t, sql, p).affected_rows());
  });
}

db_result<rows> pg_connection::query_once(const std::string& sql, const params& p) {
  return impl_->run<rows>(
      "query", [&](pqxx::transaction_base& t) { return to_rows(impl::run_once(t, sql, p)); });
}

db_result<done> pg_connection::exec_script(const std::string& sql) {
  return impl_->run<done>("script", [&](pqxx::transaction_base& t) {
    t.exec(sql);
    return done{};
  });
}

db_result<done> pg_connection::begin() {
  if (impl_->tx) return db_error{db_errc::invalid_argument, "postgres: a transaction is open"};
  try {
    impl_->tx = std::make_unique<pqxx::work>(*impl_->conn);
    return done{};
  } catch (const std::exception& ex) {
    return pg_error(ex, "begin", impl_->broken);
  }
}

db_result<done> pg_connection::commit() {
  if (!impl_->tx) return db_error{db_errc::invalid_argument, "postgres: no transaction is open"};
  try {
    impl_->tx->commit();
    impl_->tx.reset();
    return done{};
  } catch (const std::exception& ex) {
    auto err = pg_error(ex, "commit", impl_->broken);
    impl_->abandon();
    return err;
  }
}

void pg_connection::rollback() {
  impl_->abandon();
}

bool pg_connection::in_transaction() const {
  return impl_->tx != nullptr;
}

bool pg_connection::broken() const {
  return impl_->broken || !impl_->conn || !impl_->conn->is_open();
}

size_t pg_connection::cached_statements() const {
  return impl_->prepared.size();
}

pg_array& pg_array::add(std::string_view text) {
  if (out_.size() > 1) out_ += ',';
  // Quoted always (an unquoted element would be trimmed, and NULL or empty misread); inside
  // quotes only the quote and the backslash need escaping.
  out_ += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
  return *this;
}

pg_array& pg_array::add(std::int64_t n) {
  if (out_.size() > 1) out_ += ',';
  out_ += std::to_string(n);
  return *this;
}

std::string pg_array::str() && {
  out_ += '}';
  return std::move(out_);
}

}  // namespace certctl::sql
