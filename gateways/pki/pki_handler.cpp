#include "gateways/pki/pki_handler.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>

#include "actors/workflows/revocation_cache.hpp"
#include "gateways/http/json.hpp"
#include "gateways/http/request_id.hpp"

namespace certctl::gateways::pki {
namespace {

constexpr std::int64_t us_per_s = 1'000'000;

std::string header(const http::raw_request& req, const char* name) {
  auto it = req.headers.find(name);
  return it == req.headers.end() ? std::string() : it->second;
}

/// Headers every PKI answer carries; errors are the REST API's `{error, request_id}`.
http::response finish(const http::raw_request& req, http::response r) {
  const std::string id = http::choose_request_id(header(req, "X-Request-Id"));
  if (r.error) {
    http::json_writer w;
    w.begin_object().field("error", *r.error).field("request_id", id).end_object();
    r.body = w.str();
    r.content_type = "application/json";
    r.with_header("Cache-Control", "no-store");
  }
  r.with_header("X-Request-Id", id);
  r.with_header("X-Content-Type-Options", "nosniff");
  return r;
}

std::string http_date(std::int64_t us) {
  const std::time_t t = static_cast<std::time_t>(us / us_per_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

http::response ocsp_body(std::string der) {
  http::response r;
  r.content_type = "application/ocsp-response";
  r.body = std::move(der);
  return r;
}

http::response ocsp_error(crypto::ocsp_response_status s) {
  const auto der = crypto::ocsp_error_response(s);
  auto r = ocsp_body(std::string(der.begin(), der.end()));
  r.with_header("Cache-Control", "no-store");
  return r;
}

/// Hex serial from a URL -> certificate_info::serial_hex form (upper case, even length, no
/// leading zero bytes); empty when it is not a plausible serial.
std::string normalize_serial(const std::string& hex) {
  if (hex.empty() || hex.size() > 2 * 20 + 2) return {};
  std::string out;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (out.size() % 2 != 0) out.insert(out.begin(), '0');
  while (out.size() > 2 && out.compare(0, 2, "00") == 0) out.erase(0, 2);
  return out;
}

/// Standard or URL-safe base64, padding optional; nullopt on any other character.
std::optional<std::string> base64_decode(const std::string& in) {
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+' || c == '-') v = 62;
    if (c == '/' || c == '_') v = 63;
    if (c == '=') break;
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

/// /.well-known/pki/{kind}/{issuer_id}[/{tail}] split into its parts.
struct route {
  std::string kind;
  std::string issuer_id;
  std::string tail;
};

route split_route(const std::string& path) {
  const std::string rest_of = path.substr(std::string(path_prefix).size());
  const auto slash = rest_of.find('/');
  route r;
  r.kind = rest_of.substr(0, slash);
  const std::string after = slash == std::string::npos ? std::string() : rest_of.substr(slash + 1);
  const auto slash2 = after.find('/');
  r.issuer_id = after.substr(0, slash2);
  r.tail = slash2 == std::string::npos ? std::string() : after.substr(slash2 + 1);
  return r;
}

bool is_ocsp_request_type(const http::raw_request& req) {
  std::string type = header(req, "Content-Type");
  type = type.substr(0, type.find(';'));
  std::transform(type.begin(), type.end(), type.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/ocsp-request";
}

}  // namespace

pki_handler::pki_handler(actors::revocation_cache& cache, pki_options options)
    : cache_(cache), options_(options) {}

bool pki_handler::handles(const std::string& path) {
  return path.rfind(path_prefix, 0) == 0;
}

http::response pki_handler::transport_error(const http::raw_request& req, int status) const {
  return finish(req, http::error_response(status, std::string(http::status_text(status))));
}

http::response pki_handler::handle(const http::raw_request& req) const {
  try {
    if (!handles(req.path)) return finish(req, http::error_response(404, "not found"));
    const auto [kind, issuer_id, tail] = split_route(req.path);
    if ((kind != "crl" && kind != "ocsp") || issuer_id.empty() || (kind == "crl" && !tail.empty()))
      return finish(req, http::error_response(404, "not found"));
    if (!cache_.has_issuer(issuer_id))
      return finish(req, http::error_response(404, "issuer " + issuer_id.substr(0, 128) +
                                                       " has no CRL or OCSP responder here"));
    return finish(req, kind == "crl" ? crl(req, issuer_id) : ocsp(req, issuer_id, tail));
  } catch (...) {
    return finish(req, http::error_response(500, "internal error"));
  }
}

http::response pki_handler::crl(const http::raw_request& req, const std::string& issuer_id) const {
  if (req.method != "GET" && req.method != "HEAD")
    return http::error_response(405, "method not allowed").with_header("Allow", "GET, HEAD");
  std::string why;
  auto snap = cache_.crl(issuer_id, &why);
  if (!snap) return http::error_response(503, "CRL not available: " + why);
  http::response r;
  const std::int64_t left_s = std::max<std::int64_t>(
      0, (snap->next_update_us / us_per_s) - static_cast<std::int64_t>(std::time(nullptr)));
  const std::int64_t max_age = std::min<std::int64_t>(options_.crl_max_age_s, left_s);
  r.with_header("ETag", snap->etag)
      .with_header("Cache-Control", "public, max-age=" + std::to_string(max_age) + ", no-transform")
      .with_header("Last-Modified", http_date(snap->this_update_us))
      .with_header("Expires", http_date(snap->next_update_us));
  if (header(req, "If-None-Match") == snap->etag) {
    r.status = 304;
    return r;
  }
  r.content_type = "application/pkix-crl";
  r.body = snap->der;
  return r;
}

http::response pki_handler::ocsp(const http::raw_request& req, const std::string& issuer_id,
                                 const std::string& tail) const {
  using crypto::ocsp_response_status;
  if (req.method == "POST") {
    if (!tail.empty()) return http::error_response(404, "not found");
    if (!is_ocsp_request_type(req))
      return http::error_response(415, "Content-Type must be application/ocsp-request");
    if (req.body.size() > options_.max_ocsp_body)
      return http::error_response(413, "OCSP request of " + std::to_string(req.body.size()) +
                                           " bytes exceeds the limit of " +
                                           std::to_string(options_.max_ocsp_body));
    auto parsed = crypto::parse_ocsp_request(reinterpret_cast<const std::uint8_t*>(req.body.data()),
                                             req.body.size());
    if (!parsed) return ocsp_error(parsed.error().status);
    return ocsp_body(cache_.ocsp_response(issuer_id, parsed.value()));
  }
  if (req.method != "GET" && req.method != "HEAD")
    return http::error_response(405, "method not allowed").with_header("Allow", "GET, HEAD, POST");
  if (tail.empty()) return http::error_response(400, "GET needs a serial or a base64 request");
  std::string der;
  const std::string serial = normalize_serial(tail);
  if (!serial.empty()) {
    der = cache_.ocsp_response_for_serial(issuer_id, serial);
  } else {
    // RFC 6960 A.1: GET {url}/{url-encoding of base64 of the DER request}; the transport has
    // already undone the URL encoding, so '/' and '+' are base64 characters here.
    if (tail.size() > (options_.max_ocsp_body * 4) / 3 + 4)
      return http::error_response(414, "OCSP GET request too long");
    auto decoded = base64_decode(tail);
    if (!decoded) return ocsp_error(ocsp_response_status::malformed_request);
    auto parsed = crypto::parse_ocsp_request(reinterpret_cast<const std::uint8_t*>(decoded->data()),
                                             decoded->size());
    if (!parsed) return ocsp_error(parsed.error().status);
    der = cache_.ocsp_response(issuer_id, parsed.value());
  }
  auto r = ocsp_body(std::move(der));
  // RFC 5019 §6: GET answers may be cached by HTTP proxies, within the response's validity.
  r.with_header("Cache-Control", "public, max-age=" + std::to_string(options_.ocsp_get_max_age_s) +
                                     ", no-transform");
  return r;
}

std::optional<http::response> pki_handler::answer_from_cache(const http::raw_request& req) const {
  try {
    if (!handles(req.path)) return std::nullopt;
    const auto [kind, issuer_id, tail] = split_route(req.path);
    if (kind != "ocsp" || issuer_id.empty()) return std::nullopt;
    std::shared_ptr<const std::string> der;
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (req.method == "POST" && tail.empty()) {
      if (!is_ocsp_request_type(req) || req.body.size() > options_.max_ocsp_body)
        return std::nullopt;
      auto parsed = crypto::parse_ocsp_request(
          reinterpret_cast<const std::uint8_t*>(req.body.data()), req.body.size());
      if (!parsed || parsed->ids.size() != 1 || !parsed->nonce.empty()) return std::nullopt;
      der = cache_.presigned_response(issuer_id, parsed->ids.front());
    } else if (get && !tail.empty()) {
      const std::string serial = normalize_serial(tail);
      if (!serial.empty()) {
        der = cache_.presigned_response_for_serial(issuer_id, serial);
      } else {
        if (tail.size() > (options_.max_ocsp_body * 4) / 3 + 4) return std::nullopt;
        auto decoded = base64_decode(tail);
        if (!decoded) return std::nullopt;
        auto parsed = crypto::parse_ocsp_request(
            reinterpret_cast<const std::uint8_t*>(decoded->data()), decoded->size());
        if (!parsed || parsed->ids.size() != 1 || !parsed->nonce.empty()) return std::nullopt;
        der = cache_.presigned_response(issuer_id, parsed->ids.front());
      }
    }
    if (!der) return std::nullopt;
    auto r = ocsp_body(*der);
    if (get)  // as ocsp() does for the GET forms (RFC 5019 §6)
      r.with_header(
          "Cache-Control",
          "public, max-age=" + std::to_string(options_.ocsp_get_max_age_s) + ", no-transform");
    return finish(req, std::move(r));
  } catch (...) {
    return std::nullopt;  // handle() answers, with its own error handling
  }
}

listener_handler pki_listener_handler(const pki_handler& h) {
  listener_handler out;
  out.fast = [&h](const http::raw_request& req) { return h.answer_from_cache(req); };
  out.handle = [&h](const http::raw_request& req) { return h.handle(req); };
  out.transport_error = [&h](const http::raw_request& req, int status) {
    return h.transport_error(req, status);
  };
  return out;
}

http::dispatcher pki_only(const pki_handler& h) {
  return http::dispatcher{
      [&h](const http::raw_request& req) { return h.handle(req); },
      [&h](const http::raw_request& req, int status) { return h.transport_error(req, status); }};
}

http::dispatcher with_pki(const pki_handler& h, http::dispatcher inner) {
  return http::dispatcher{
      [&h, handle = inner.handle](const http::raw_request& req) {
        return pki_handler::handles(req.path) ? h.handle(req) : handle(req);
      },
      [&h, error = inner.transport_error](const http::raw_request& req, int status) {
        return pki_handler::handles(req.path) ? h.transport_error(req, status) : error(req, status);
      }};
}

}  // namespace certctl::gateways::pki
