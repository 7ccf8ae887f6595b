#include "gateways/scep/scep_probe.hpp"

#include <algorithm>
#include <chrono>

#include "events/json.hpp"
#include "events/time.hpp"
#include "gateways/http/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/scep_message.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::gateways::scep {
namespace {

struct target {
  bool tls = true;
  std::string host;
  int port = 443;
  std::string path = "/";
};

/// http(s)://host[:port][/path]; no userinfo, no query, no fragment.
std::optional<target> parse_url(const std::string& url, std::string& why) {
  target t;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    t.tls = false;
    t.port = 80;
    rest = url.substr(7);
  } else {
    why = "url must start with http:// or https://";
    return std::nullopt;
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) t.path = rest.substr(slash);
  if (authority.empty() || authority.find('@') != std::string::npos ||
      t.path.find_first_of("?# \r\n") != std::string::npos) {
    why = "url must be scheme://host[:port][/path] without query, fragment or credentials";
    return std::nullopt;
  }
  std::string host = authority;
  const auto close = authority.rfind(']');
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && (close == std::string::npos || colon > close)) {
    host = authority.substr(0, colon);
    const std::string p = authority.substr(colon + 1);
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(p) < 1 || std::stoi(p) > 65535) {
      why = "url has a bad port";
      return std::nullopt;
    }
    t.port = std::stoi(p);
  }
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) {
    why = "url has no host";
    return std::nullopt;
  }
  t.host = host;
  return t;
}

std::string header(const net::http_get_response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

}  // namespace

scep_prober::scep_prober(scep_probe_options options, std::function<std::int64_t()> now_us)
    : opt_(std::move(options)), now_us_(std::move(now_us)) {}

std::string scep_prober::probe(const std::string& url) {
  const auto started = std::chrono::steady_clock::now();
  const std::int64_t probed_at = now_us_();
  events::json_object out;
  out.set("id", "scep-probe-" + crypto::random_hex(8))
      .set("target_url", url)
      .set("reachable", false);
  std::vector<std::string> caps;
  std::string error;
  auto finish = [&]() {
    out.set("advertised_caps", caps);
    auto has = [&](const char* c) { return std::find(caps.begin(), caps.end(), c) != caps.end(); };
    out.set("supports_rfc8894", has("SCEPStandard"))
        .set("supports_aes", has("AES"))
        .set("supports_post_operation", has("POSTPKIOperation"))
        .set("supports_renewal", has("Renewal"))
        .set("supports_sha256", has("SHA-256"))
        .set("supports_sha512", has("SHA-512"))
        .set("probed_at", events::format_rfc3339(probed_at))
        .set("probe_duration_ms",
             static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()));
    if (!error.empty()) out.set("error", error);
    std::string body = out.dump();
    std::lock_guard<std::mutex> lock(mu_);
    recent_.push_front(body);
    while (recent_.size() > opt_.history) recent_.pop_back();
    return body;
  };
  auto t = parse_url(url, error);
  if (!t) return finish();
  net::outbound_limits limits;
  limits.connect_timeout = opt_.timeout;
  limits.io_timeout = opt_.timeout;
  limits.max_response_bytes = crypto::max_scep_message_size;
  auto get = [&](const std::string& op) -> result<net::http_get_response, net::outbound_error> {
    net::http_get_request req;
    req.host = t->host;
    req.port = t->port;
    req.path = t->path + "?operation=" + op;
    if (t->tls) return crypto::https_get(opt_.guard, req, limits, {opt_.ca_bundle_path});
    return net::http_get(opt_.guard, req, limits);
  };
  auto caps_resp = get("GetCACaps");
  if (!caps_resp) {
    error = std::string("GetCACaps: ") + net::outbound_error::public_message();
    if (caps_resp.error().code == net::outbound_errc::refused_address)
      error = "GetCACaps: the address is not allowed by the outbound policy";
    return finish();
  }
  out.set("reachable", true);
  if (caps_resp->status != 200) {
    error = "GetCACaps: HTTP " + std::to_string(caps_resp->status);
  } else {
    std::string line;
    for (char ch : caps_resp->body + "\n") {
      if (ch == '\n' || ch == '\r') {
        if (!line.empty() && line.size() <= 64) caps.push_back(line);
        line.clear();
      } else {
        line += ch;
      }
    }
  }
  auto cert_resp = get("GetCACert");
  if (!cert_resp || cert_resp->status != 200) {
    if (error.empty())
      error = "GetCACert: " + (cert_resp ? "HTTP " + std::to_string(cert_resp->status)
                                         : std::string(net::outbound_error::public_message()));
    return finish();
  }
  const crypto::bytes der(cert_resp->body.begin(), cert_resp->body.end());
  std::vector<std::string> certs;
  if (header(*cert_resp, "content-type").find("x-x509-ca-ra-cert") != std::string::npos) {
    auto parsed = crypto::scep_parse_certs_only(der);
    if (parsed)
      certs = std::move(*parsed);
    else if (error.empty())
      error = "GetCACert: " + parsed.error().message;
  } else if (auto pem = crypto::certificate_der_to_pem(der)) {
    certs.push_back(*pem);
  } else if (error.empty()) {
    error = "GetCACert: " + pem.error().message;
  }
  // The CA certificate: the first one with CA:TRUE (an RA certificate comes first in RA mode).
  std::optional<crypto::certificate_info> ca;
  for (const auto& pem : certs) {
    auto info = crypto::parse_certificate(pem);
    if (info && (info->is_ca || !ca)) {
      ca = std::move(*info);
      if (ca->is_ca) break;
    }
  }
  if (ca) {
    const std::int64_t now_s = probed_at / 1000000;
    out.set("ca_cert_subject", ca->subject_dn)
        .set("ca_cert_issuer", ca->issuer_dn)
        .set("ca_cert_not_before", events::format_rfc3339(ca->not_before * 1000000))
        .set("ca_cert_not_after", events::format_rfc3339(ca->not_after * 1000000))
        .set("ca_cert_expired", ca->not_after <= now_s)
        .set("ca_cert_days_to_expiry", static_cast<std::int64_t>((ca->not_after - now_s) / 86400))
        .set("ca_cert_algorithm",
             ca->key_algorithm +
                 (ca->key_curve.empty() ? "-" + std::to_string(ca->key_bits) : "-" + ca->key_curve))
        .set("ca_cert_chain_length", static_cast<std::int64_t>(certs.size()));
  }
  return finish();
}

void scep_prober::add_routes(http::router& r) {
  r.add("POST", "/api/v1/network-scan/scep-probe", http::role::operator_,
        [this](http::request_context& c) {
          auto body = http::parse_json_object(c.body(), 8 * 1024);
          if (!body) return http::to_response(body.error());
          if (!body->is_string("url") || body->str("url").empty())
            return http::error_response(400, "url is required");
          if (body->str("url").size() > 2048) return http::error_response(400, "url is too long");
          return http::json_response(probe(body->str("url")));
        });
  r.add("GET", "/api/v1/network-scan/scep-probes", http::role::viewer,
        [this](http::request_context&) {
          std::string arr = "[";
          std::size_t n = 0;
          {
            std::lock_guard<std::mutex> lock(mu_);
            for (const auto& p : recent_) {
              if (n == 50) break;  // the reference's page: the most recent 50
              arr += (n++ ? "," : "") + p;
            }
          }
          arr += "]";
          events::json_object o;
          o.set_raw("probes", arr).set("probe_count", static_cast<std::int64_t>(n));
          return http::json_response(o.dump());
        });
}

}  // namespace certctl::gateways::scep
