#include "gateways/http/static_files.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

namespace certctl::gateways::http {
namespace fs = std::filesystem;

namespace {

/// The dashboard's files are a few hundred kilobytes; a bound keeps a stray large file (or a
/// device node) from being read into memory.
constexpr std::uintmax_t max_file_bytes = 16u << 20;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// The file a request path names, relative to the root, or "" when the path is refused.
std::string relative_file(const std::string& path) {
  if (path == "/" || path == "/index.html") return "index.html";
  if (path == "/favicon.svg") return "favicon.svg";
  if (!starts_with(path, "/assets/")) return "";
  const std::string rel = path.substr(1);
  if (rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos) return "";
  // Segment by segment: an empty, "." or ".." segment (or any dot file) is refused outright,
  // before the file system is asked anything.
  std::istringstream segments(rel);
  std::string seg;
  while (std::getline(segments, seg, '/'))
    if (seg.empty() || seg[0] == '.') return "";
  if (rel.back() == '/') return "";
  return rel;
}

response with_security_headers(response r, const raw_request& req) {
  r.with_header("Content-Security-Policy", dashboard_csp);
  r.with_header("X-Content-Type-Options", "nosniff");
  r.with_header("X-Frame-Options", "DENY");
  r.with_header("Referrer-Policy", "no-referrer");
  r.with_header("Cross-Origin-Opener-Policy", "same-origin");
  if (req.tls) r.with_header("Strict-Transport-Security", "max-age=31536000");
  return r;
}

response not_found(const raw_request& req) {
  response r;
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "not found\n";
  r.with_header("Cache-Control", "no-store");
  return with_security_headers(std::move(r), req);
}

}  // namespace

std::string content_type_for(const std::string& file_name) {
  static const std::pair<const char*, const char*> types[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"}};
  const std::string ext = fs::path(file_name).extension().string();
  for (const auto& [e, type] : types)
    if (ext == e) return type;
  return "application/octet-stream";
}

static_files::static_files(std::string root) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(root, ec);
  if (ec) return;
  root_ = canonical.string();
  enabled_ = fs::is_regular_file(canonical / "index.html", ec);
}

bool static_files::handles(const raw_request& req) const {
  if (!enabled_ || (req.method != "GET" && req.method != "HEAD")) return false;
  return req.path == "/" || req.path == "/index.html" || req.path == "/favicon.svg" ||
         starts_with(req.path, "/assets/");
}

response static_files::serve(const raw_request& req) const {
  const std::string rel = relative_file(req.path);
  if (!enabled_ || rel.empty()) return not_found(req);
  // Symlinks are resolved before the containment check, so a link inside the directory
  // cannot hand out a file outside it.
  std::error_code ec;
  const fs::path file = fs::canonical(fs::path(root_) / rel, ec);
  if (ec) return not_found(req);
  const std::string f = file.string();
  if (!starts_with(f, root_ + "/") || !fs::is_regular_file(file, ec)) return not_found(req);
  const auto size = fs::file_size(file, ec);
  if (ec || size > max_file_bytes) return not_found(req);
  std::ifstream in(file, std::ios::binary);
  if (!in) return not_found(req);
  response r;
  r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  r.content_type = content_type_for(rel);
  // Vite puts a content hash into every asset's name: a changed file is a new URL, so the old
  // one may be kept forever. index.html names them, so it is always revalidated.
  r.with_header("Cache-Control",
                starts_with(rel, "assets/") ? "public, max-age=31536000, immutable" : "no-cache");
  return with_security_headers(std::move(r), req);
}

dispatcher with_static_files(const static_files& files, dispatcher inner) {
  return dispatcher{[&files, handle = std::move(inner.handle)](const raw_request& req) {
                      return files.handles(req) ? files.serve(req) : handle(req);
                    },
                    std::move(inner.transport_error)};
}

}  // namespace certctl::gateways::http
