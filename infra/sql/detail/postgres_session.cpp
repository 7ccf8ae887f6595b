// PostgreSQL connection for database (libpqxx 6). Every libpqxx exception stops here and
// becomes a db_error.

#include <pqxx/pqxx>

#include "infra/store/postgres_store.hpp"
#include "infra/sql/detail/session.hpp"

namespace certctl::sql::detail {
namespace {

// Type OIDs from pg_type.h, so integer columns come back as integers.
constexpr pqxx::oid int8_oid = 20;
constexpr pqxx::oid int2_oid = 21;
constexpr pqxx::oid int4_oid = 23;

db_error pg_error(const std::exception& ex, const std::string& what, bool& broken) {
  db_errc code = db_errc::query_failed;
  if (dynamic_cast<const pqxx::broken_connection*>(&ex) != nullptr) {
    broken = true;
    code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&ex) != nullptr) {
    code = db_errc::constraint;
  } else if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&ex)) {
    // SQLSTATE classes that describe the server, not the statement: connection (08),
    // serialization/deadlock (40), resources (53), operator intervention (57).
    const std::string state = sql->sqlstate();
    const std::string cls = state.substr(0, 2);
    if (cls == "08" || cls == "40" || cls == "53" || cls == "57") code = db_errc::unavailable;
  } else if (dynamic_cast<const pqxx::in_doubt_error*>(&ex) != nullptr) {
    code = db_errc::unavailable;
  }
  return {code, "postgres " + what + ": " + ex.what()};
}

class postgres_session final : public session {
 public:
  explicit postgres_session(std::unique_ptr<pqxx::connection> c) : conn_(std::move(c)) {}

  ~postgres_session() override {
    try {
      abandon();
      conn_.reset();
    } catch (...) {
      // Closing a dead connection may throw; nothing more to do with it.
    }
  }

  db_result<std::int64_t> exec(const std::string& sql, const params& p) override {
    return run<std::int64_t>("exec", [&](pqxx::transaction_base& t) {
      return static_cast<std::int64_t>(execute(t, sql, p).affected_rows());
    });
  }

  db_result<rows> query(const std::string& sql, const params& p) override {
    return run<rows>("query", [&](pqxx::transaction_base& t) {
      const pqxx::result r = execute(t, sql, p);
      rows out;
      out.reserve(r.size());
      const auto ncols = r.columns();
      for (const auto& pr : r) {
        std::vector<sql_value> cols;
        cols.reserve(ncols);
        for (pqxx::row::size_type i = 0; i < ncols; ++i) {
          const pqxx::field f = pr[i];
          if (f.is_null()) {
            cols.emplace_back(std::monostate{});
          } else {
            const pqxx::oid t = r.column_type(i);
            if (t == int8_oid || t == int4_oid || t == int2_oid)
              cols.emplace_back(f.as<std::int64_t>());
            else
              cols.emplace_back(std::string(f.c_str(), f.size()));
          }
        }
        out.emplace_back(std::move(cols));
      }
      return out;
    });
  }

  /// Several statements need the simple-query protocol (exec), which aborts the whole
  /// transaction if one fails; scripts are schema DDL, where that is what we want anyway.
  db_result<done> exec_script(const std::string& sql) override {
    return run<done>("script", [&](pqxx::transaction_base& t) {
      t.exec(sql);
      return done{};
    });
  }

  db_result<done> begin() override {
    try {
      tx_ = std::make_unique<pqxx::work>(*conn_);
      return done{};
    } catch (const std::exception& ex) {
      return pg_error(ex, "begin", broken_);
    }
  }

  db_result<done> commit() override {
    if (!tx_) return db_error{db_errc::invalid_argument, "postgres: no transaction is open"};
    try {
      savepoints_ = 0;
      tx_->commit();
      tx_.reset();
      return done{};
    } catch (const std::exception& ex) {
      auto err = pg_error(ex, "commit", broken_);
      abandon();
      return err;
    }
  }

  void rollback() override { abandon(); }

  // Plain SAVEPOINT statements rather than pqxx::subtransaction: libpqxx 6 sends a
  // subtransaction's SAVEPOINT lazily and exec_params() skips it, so writes escaped it.
  db_result<done> savepoint() override {
    auto out = statement("SAVEPOINT sp" + std::to_string(savepoints_ + 1));
    if (out) ++savepoints_;
    return out;
  }

  db_result<done> release_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    auto out = statement("RELEASE SAVEPOINT sp" + std::to_string(savepoints_));
    if (out) --savepoints_;
    return out;
  }

  db_result<done> rollback_to_savepoint() override {
    if (savepoints_ == 0) return no_savepoint();
    // Also clears PostgreSQL's "transaction is aborted" state after a failed statement;
    // the savepoint stays open for the caller to release, as on SQLite.
    return statement("ROLLBACK TO SAVEPOINT sp" + std::to_string(savepoints_));
  }

  /// One statement that leaves the transaction usable if it fails.
  db_result<done> statement(const std::string& sql) {
    auto r = exec(sql, {});
    if (!r) return r.error();
    return done{};
  }

  bool broken() const override { return broken_ || !conn_ || !conn_->is_open(); }

 private:
  static pqxx::result execute(pqxx::transaction_base& t, const std::string& sql, const params& p) {
    const std::string text = translate_placeholders(sql, sql_dialect::postgres);
    // Always exec_params, even without parameters: libpqxx 6's exec() aborts the whole
    // transaction on an error, which would make savepoints useless.
    if (p.empty()) return t.exec_params(text);
    // libpq takes parameters as C strings, NULL meaning SQL NULL; the server infers each
    // parameter's type from the statement.
    std::vector<std::string> storage;
    storage.reserve(p.size());
    std::vector<const char*> ptrs;
    ptrs.reserve(p.size());
    for (const auto& v : p) {
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        storage.push_back(std::to_string(*n));
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        storage.push_back(*s);
      } else {
        storage.emplace_back();
      }
    }
    for (size_t i = 0; i < p.size(); ++i)
      ptrs.push_back(std::holds_alternative<std::monostate>(p[i]) ? nullptr : storage[i].c_str());
    return t.exec_params(text, pqxx::prepare::make_dynamic_params(ptrs));
  }

  /// Runs `fn` in the open transaction, or in a one-statement autocommit one.
  template <class T, class Fn>
  db_result<T> run(const char* what, Fn&& fn) {
    try {
      if (tx_) return fn(*tx_);
      pqxx::nontransaction auto_tx(*conn_);
      return fn(auto_tx);
    } catch (const std::exception& ex) {
      return pg_error(ex, what, broken_);
    }
  }

  static db_error no_savepoint() { return {db_errc::invalid_argument, "no savepoint is open"}; }

  void abandon() {
    savepoints_ = 0;
    try {
      if (tx_) tx_->abort();
    } catch (const std::exception&) {
      broken_ = true;  // an abort that fails leaves the connection in an unknown state
    }
    tx_.reset();
  }

  std::unique_ptr<pqxx::connection> conn_;
  std::unique_ptr<pqxx::work> tx_;
  int savepoints_ = 0;
  bool broken_ = false;
};

}  // namespace

db_result<std::unique_ptr<session>> open_postgres_session(const std::string& uri) {
  try {
    auto c = std::make_unique<pqxx::connection>(uri);
    return std::unique_ptr<session>(std::make_unique<postgres_session>(std::move(c)));
  } catch (const std::exception& ex) {
    return db_error{db_errc::unavailable,
                    "cannot connect to PostgreSQL " + store::redact_uri(uri) + ": " + ex.what()};
  }
}

}  // namespace certctl::sql::detail
