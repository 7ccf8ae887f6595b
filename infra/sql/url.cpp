#include "infra/sql/url.hpp"

namespace certctl::sql {
namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

db_error bad(const std::string& url, const std::string& why) {
  return {db_errc::bad_url, "malformed store URL \"" + redact_uri(url) + "\": " + why +
                                " (expected memory:, sqlite:///abs/path.db or "
                                "postgresql://user@host:port/db)"};
}

}  // namespace

db_result<db_url> parse_db_url(const std::string& url) {
  if (url == "memory:" || url == "memory://") return db_url{db_url::kind::memory, ""};
  if (starts_with(url, "sqlite://")) {
    std::string path = url.substr(9);
    if (path.empty() || path[0] != '/') return bad(url, "the SQLite path must be absolute");
    if (path.back() == '/') return bad(url, "the SQLite path names a directory");
    if (path.find('?') != std::string::npos) return bad(url, "query parameters are not supported");
    return db_url{db_url::kind::sqlite, path};
  }
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    const auto rest = url.substr(url.find("://") + 3);
    if (rest.empty() || rest[0] == '/' || rest[0] == '?')
      return bad(url, "the PostgreSQL URL has no host");
    return db_url{db_url::kind::postgres, url};
  }
  return bad(url, "unknown scheme");
}

std::string redact_uri(const std::string& uri) {
  const auto scheme = uri.find("://");
  const auto at = uri.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return uri;
  const auto colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon + 1) + "***" + uri.substr(at);
}

}  // namespace certctl::sql
