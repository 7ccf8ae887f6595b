#include "infra/store/store_url.hpp"

#include "infra/store/memory_store.hpp"
#include "infra/store/postgres_store.hpp"
#include "infra/store/sqlite_store.hpp"

namespace certctl::store {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

store_error bad(const std::string& url, const std::string& why) {
  return {store_errc::bad_url, "malformed store URL \"" + redact_uri(url) + "\": " + why +
                                   " (expected memory:, sqlite:///abs/path.db or "
                                   "postgresql://user@host:port/db)"};
}

}  // namespace

store_result<store_url> parse_store_url(const std::string& url) {
  if (url == "memory:" || url == "memory://") return store_url{store_url::kind::memory, ""};
  if (starts_with(url, "sqlite://")) {
    std::string path = url.substr(9);
    if (path.empty() || path[0] != '/') return bad(url, "the SQLite path must be absolute");
    if (path.back() == '/') return bad(url, "the SQLite path names a directory");
    if (path.find('?') != std::string::npos) return bad(url, "query parameters are not supported");
    return store_url{store_url::kind::sqlite, path};
  }
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    const auto rest = url.substr(url.find("://") + 3);
    if (rest.empty() || rest[0] == '/' || rest[0] == '?')
      return bad(url, "the PostgreSQL URL has no host");
    return store_url{store_url::kind::postgres, url};
  }
  return bad(url, "unknown scheme");
}

store_result<std::unique_ptr<event_store>> open_event_store(const std::string& url,
                                                            const store_options& options) {
  auto parsed = parse_store_url(url);
  if (!parsed) return parsed.error();
  switch (parsed->k) {
    case store_url::kind::memory:
      return make_memory_store(options);
    case store_url::kind::sqlite:
      return open_sqlite_store(parsed->location, options);
    case store_url::kind::postgres:
      return open_postgres_store(parsed->location, options);
  }
  return bad(url, "unknown scheme");
}

}  // namespace certctl::store
