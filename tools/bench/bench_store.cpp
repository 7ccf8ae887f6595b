#include "tools/bench/bench_store.hpp"

#include <filesystem>
#include <pqxx/pqxx>

#include "infra/store/postgres_store.hpp"
#include "infra/store/store_url.hpp"

namespace certctl::bench {
namespace {

store::store_error refuse(std::string message) {
  return {store::store_errc::invalid_argument, std::move(message)};
}

bool valid_identifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return !(s[0] >= '0' && s[0] <= '9');
}

store::store_result<std::string> prepare_sqlite(const std::string& path, bool fresh) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fresh) return refuse(path + " exists; pass --fresh to delete it and start empty");
    // The WAL and shared-memory files belong to the old database and must go with it.
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
    if (fs::exists(path)) return refuse("cannot delete " + path);
  }
  return std::string("sqlite://") + path;
}

store::store_result<std::string> prepare_postgres(const std::string& uri, const std::string& schema,
                                                  bool fresh) {
  if (!valid_identifier(schema))
    return refuse("flag --schema: \"" + schema + "\" is not a plain lower-case identifier");
  try {
    pqxx::connection c(uri);
    pqxx::work tx(c);
    const bool exists =
        !tx.exec_params("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema).empty();
    if (exists && !fresh)
      return refuse("schema " + schema + " exists; pass --fresh to drop it and start empty");
    if (exists) tx.exec0("DROP SCHEMA " + schema + " CASCADE");
    tx.exec0("CREATE SCHEMA " + schema);
    tx.commit();
  } catch (const std::exception& ex) {
    return store::store_error{
        store::store_errc::unavailable,
        "cannot prepare schema " + schema + " at " + store::redact_uri(uri) + ": " + ex.what()};
  }
  // Every connection of the store then resolves the unqualified table names in that schema.
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" +
         schema;
}

}  // namespace

store::store_result<std::unique_ptr<store::event_store>> open_fresh_store(
    const fresh_store_request& req) {
  auto parsed = store::parse_store_url(req.url);
  if (!parsed) return parsed.error();
  store::store_result<std::string> url = req.url;
  switch (parsed->k) {
    case store::store_url::kind::memory:
      break;
    case store::store_url::kind::sqlite:
      url = prepare_sqlite(parsed->location, req.fresh);
      break;
    case store::store_url::kind::postgres:
      url = prepare_postgres(parsed->location, req.pg_schema, req.fresh);
      break;
  }
  if (!url) return url.error();
  return store::open_event_store(*url, req.options);
}

}  // namespace certctl::bench
