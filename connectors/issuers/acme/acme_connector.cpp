#include "connectors/issuers/acme/acme_connector.hpp"

#include "connectors/issuers/acme/acme_issuer.hpp"

namespace certctl::connectors {
namespace {

using acme::acme_config;

issuer_error bad(const std::string& id, const std::string& m) {
  return {issuer_errc::invalid_request, "issuer " + id + ": " + m};
}

/// The config as the connector uses it, or why it cannot work (named field).
certctl::result<acme_config, issuer_error> config_of(const connector_settings& s) {
  const auto& c = s.config;
  acme_config a;
  a.directory_url = c.str("directory_url");
  if (auto u = acme::parse_https_url(a.directory_url); !u)
    return bad(s.id, "config.directory_url: " + u.error());
  a.email = c.str("email");
  a.eab_kid = c.str("eab_kid");
  a.eab_hmac = c.str("eab_hmac");
  a.eab_fetch_url = c.str("eab_fetch_url");
  if (a.eab_kid.empty() != a.eab_hmac.empty())
    return bad(s.id, "config.eab_kid and config.eab_hmac go together");
  if (!a.eab_fetch_url.empty())
    if (auto u = acme::parse_https_url(a.eab_fetch_url); !u)
      return bad(s.id, "config.eab_fetch_url: " + u.error());
  a.challenge_type = c.str("challenge_type", "http-01");
  if (a.challenge_type != "http-01" && a.challenge_type != "dns-01" &&
      a.challenge_type != "dns-persist-01")
    return bad(s.id, "config.challenge_type must be http-01, dns-01 or dns-persist-01");
  a.http_address = c.str("http_address", "127.0.0.1");
  a.http_port = static_cast<int>(c.int64("http_port", 80));
  if (a.http_port < 1 || a.http_port > 65535) return bad(s.id, "config.http_port must be 1-65535");
  a.webroot = c.str("webroot");
  if (!a.webroot.empty() && a.webroot.front() != '/')
    return bad(s.id, "config.webroot must be an absolute path");
  a.dns_present_script = c.str("dns_present_script");
  a.dns_cleanup_script = c.str("dns_cleanup_script");
  a.dns_persist_issuer_domain = c.str("dns_persist_issuer_domain");
  if (a.challenge_type != "http-01" && a.dns_present_script.empty())
    return bad(s.id, "config.dns_present_script is required for " + a.challenge_type);
  if (a.challenge_type == "dns-persist-01" && a.dns_persist_issuer_domain.empty())
    return bad(s.id, "config.dns_persist_issuer_domain is required for dns-persist-01");
  a.dns_propagation_wait = static_cast<int>(c.int64("dns_propagation_wait", 0));
  if (a.dns_propagation_wait < 0 || a.dns_propagation_wait > 600)
    return bad(s.id, "config.dns_propagation_wait must be 0-600 seconds");
  a.profile = c.str("profile");
  a.ca_bundle = c.str("ca_bundle");
  if (!a.ca_bundle.empty() && a.ca_bundle.front() != '/')
    return bad(s.id, "config.ca_bundle must be an absolute path to PEM roots");
  a.ari_enabled = c.boolean("ari_enabled", false);
  return a;
}

}  // namespace

config_schema acme_schema() {
  using f = field_type;
  return config_schema{{
      {"directory_url", f::string, true, false, "the ACME CA's directory URL (https)"},
      {"email", f::string, false, false, "account contact address"},
      {"eab_kid", f::string, false, false, "external account binding key id"},
      {"eab_hmac", f::string, false, true, "external account binding HMAC key (base64url)"},
      {"eab_fetch_url", f::string, false, false,
       "ZeroSSL-style endpoint that hands out EAB credentials for email; only when set"},
      {"challenge_type", f::string, false, false, "http-01 (default), dns-01 or dns-persist-01"},
      {"http_address", f::string, false, false, "built-in HTTP-01 responder address (127.0.0.1)"},
      {"http_port", f::integer, false, false, "built-in HTTP-01 responder port (80)"},
      {"webroot", f::string, false, false,
       "HTTP-01 through the operator's web server: write challenge files under this directory"},
      {"dns_present_script", f::string, false, false, "creates the TXT record (dns-01, persist)"},
      {"dns_cleanup_script", f::string, false, false, "removes the TXT record (dns-01)"},
      {"dns_persist_issuer_domain", f::string, false, false,
       "CA issuer domain in the dns-persist-01 record"},
      {"dns_propagation_wait", f::integer, false, false, "seconds to wait after presenting"},
      {"profile", f::string, false, false, "ACME certificate profile for newOrder"},
      {"ca_bundle", f::string, false, false, "PEM roots trusted for a private ACME CA"},
      {"ari_enabled", f::boolean, false, false, "ask the CA when to renew (RFC 9773)"},
  }};
}

certctl::result<done, std::string> register_acme_connector(connector_registry& registry,
                                                           const builtin_context& context) {
  issuer_registration r;
  r.type = "ACME";
  r.description =
      "RFC 8555 client for any ACME CA: HTTP-01 (built-in responder or webroot), DNS-01 and "
      "DNS-PERSIST-01 hooks, EAB, profiles, ARI";
  r.schema = acme_schema();
  acme::acme_environment env;
  env.keys = context.keys;
  env.guard = context.outbound;
  env.certificate_by_serial = context.certificate_by_serial;
  r.make =
      [env](const connector_settings& s) -> certctl::result<std::shared_ptr<issuer>, issuer_error> {
    if (env.keys == nullptr || env.guard == nullptr)
      return issuer_error{issuer_errc::unavailable,
                          "issuer " + s.id + ": ACME needs the server's key store"};
    auto cfg = config_of(s);
    if (!cfg) return cfg.error();
    return std::shared_ptr<issuer>(
        std::make_shared<acme::acme_issuer>(s.id, std::move(cfg).value(), env));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
