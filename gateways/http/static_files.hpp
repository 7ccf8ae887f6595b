#pragma once
/// Serves the built web dashboard (gateways/dashboard, docs/dashboard.md) from a directory:
/// GET/HEAD of "/", "/index.html", "/favicon.svg" and "/assets/<file>"; every other path goes to
/// the wrapped dispatcher (the REST router), so the API's answers are unchanged.
///
/// Hardening: only those paths, no "." or ".." segments, no backslashes or NULs, and the
/// resolved file (after symlinks) must lie inside the directory; a fixed extension table sets
/// the Content-Type and nothing is sniffed. Every answer carries a strict
/// Content-Security-Policy (scripts and styles only from this origin, no inline script, no
/// framing), X-Content-Type-Options: nosniff and X-Frame-Options: DENY. The hashed files under
/// /assets/ are cached for a year (immutable); index.html is revalidated on every load so a new
/// build takes effect at once.

#include <string>

#include "gateways/http/http_server.hpp"
#include "gateways/http/http_types.hpp"

namespace certctl::gateways::http {

/// The policy every dashboard answer carries (docs/dashboard.md explains each part).
inline constexpr const char* dashboard_csp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

class static_files {
 public:
  /// `root` is the build output (index.html, assets/); it may be missing, then nothing is
  /// served and every request falls through to the API.
  explicit static_files(std::string root);

  /// True when `root` holds an index.html.
  bool enabled() const { return enabled_; }
  const std::string& root() const { return root_; }

  /// Whether this request is the dashboard's (method and path only; the file may not exist).
  bool handles(const raw_request& req) const;

  /// The file's bytes with its headers, or 404 (plain text, same headers) when it does not
  /// exist or the path is refused; http_server's error hook then renders that 404 in the API's
  /// error shape, as for any unknown path. Thread-safe: reads the file on each call.
  response serve(const raw_request& req) const;

 private:
  std::string root_;  ///< canonical, without a trailing slash
  bool enabled_ = false;
};

/// The content type for a file name's extension ("application/octet-stream" if unknown).
std::string content_type_for(const std::string& file_name);

/// Dashboard requests to `files`, the rest to `inner`. `files` must outlive the server.
dispatcher with_static_files(const static_files& files, dispatcher inner);

}  // namespace certctl::gateways::http
