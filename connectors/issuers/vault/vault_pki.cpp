#include "connectors/issuers/vault/vault_pki.hpp"

#include "connectors/issuers/external_ca.hpp"
#include "connectors/issuers/vault/vault_token.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::connectors::vault {
namespace {

namespace ext = external_ca;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

/// "0A1B2C" -> "0a:1b:2c", the form Vault names serials in.
std::string vault_serial(const std::string& hex) {
  std::string h = hex.size() % 2 ? "0" + hex : hex;
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(h[i])));
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(h[i + 1])));
  }
  return out;
}

bool safe_segment(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/'))
      return false;
  return s.find("..") == std::string::npos && s.front() != '/' && s.back() != '/';
}

class vault_issuer final : public issuer {
 public:
  vault_issuer(std::string id, ext::https_client client, std::string mount, std::string role,
               token_config tokens, token_source::observer on_renewal)
      : id_(std::move(id)),
        who_("issuer " + id_ + " (Vault)"),
        client_(std::move(client)),
        mount_(std::move(mount)),
        role_(std::move(role)),
        tokens_(client_, std::move(tokens), std::move(on_renewal), who_) {}

  std::string_view type() const override { return "VaultPKI"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return {}; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.static_ca_chain = false;
    return c;
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    events::json_object body;
    const std::string cn = r.common_name.empty() ? (csr->common_name.empty() && !r.sans.dns.empty()
                                                        ? r.sans.dns.front()
                                                        : csr->common_name)
                                                 : r.common_name;
    const auto& dns = r.sans.dns.empty() && r.sans.ip.empty() ? csr->dns_names : r.sans.dns;
    const auto& ips = r.sans.dns.empty() && r.sans.ip.empty() ? csr->ip_addresses : r.sans.ip;
    body.set("csr", r.csr_pem)
        .set("common_name", cn)
        .set("alt_names", join(dns))
        .set("ip_sans", join(ips))
        .set("ttl", std::to_string(ext::requested_lifetime_seconds(r, 8760LL * 3600)) + "s")
        .set("format", "pem");
    auto reply = call("POST", "/v1/" + mount_ + "/sign/" + role_, body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200) return mapped(*reply, "sign");
    auto data = events::json_object::parse(reply->json.raw("data")).value_or(events::json_object{});
    std::string chain;
    for (const auto& c : data.str_array("ca_chain")) chain += c + "\n";
    if (chain.empty()) chain = data.str("issuing_ca");
    return ext::accept_certificate(*csr, r, data.str("certificate"), chain, "Vault");
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    events::json_object body;
    body.set("serial_number", vault_serial(*serial));
    auto reply = call("POST", "/v1/" + mount_ + "/revoke", body.dump());
    if (!reply) return reply.error();
    if (reply->status != 200 && reply->status != 204) return mapped(*reply, "revoke");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto health = client_.call("GET", "/v1/sys/health");
    if (!health) return health.error();
    if (health->status == 503) return fail(issuer_errc::unavailable, who_ + ": Vault is sealed");
    if (health->status == 501)
      return fail(issuer_errc::unavailable, who_ + ": Vault is not initialised");
    if (health->status != 200 && health->status != 429 && health->status != 473)
      return mapped(*health, "health");
    auto token = tokens_.lookup();
    if (!token) return token.error();
    auto ca = client_.call("GET", "/v1/" + mount_ + "/cert/ca");
    if (!ca) return ca.error();
    if (ca->status != 200) return mapped(*ca, "read CA");
    auto data = events::json_object::parse(ca->json.raw("data")).value_or(events::json_object{});
    auto cert = crypto::parse_certificate(data.str("certificate"));
    if (!cert)
      return fail(issuer_errc::unavailable, who_ + ": mount " + mount_ + " has no CA certificate");
    issuer_test_report report;
    report.message = "Vault unsealed, token valid (ttl " + std::to_string(token->ttl_seconds) +
                     " s), mount " + mount_ + " CA " + cert->subject_dn;
    report.ca_not_after_us = cert->not_after * 1000000;
    return report;
  }

  certctl::result<done, issuer_error> renew_now() {
    if (auto t = tokens_.token(); !t) return t.error();
    auto r = tokens_.renew_once();
    if (!r) return r.error();
    return done{};
  }

 private:
  /// A Vault call with the token; a 403 under AppRole logs in again and retries once.
  certctl::result<ext::http_reply, issuer_error> call(const std::string& method,
                                                      const std::string& path,
                                                      const std::string& body) {
    auto token = tokens_.token();
    if (!token) return token.error();
    auto reply = client_.call(method, path, body, tokens_.headers(*token));
    if (!reply || reply->status != 403) return reply;
    auto again = tokens_.after_denied(mapped(*reply, method));
    if (!again) return reply;
    return client_.call(method, path, body, tokens_.headers(*again));
  }

  /// Vault's error body in our terms, with Vault's own words.
  issuer_error mapped(const ext::http_reply& r, const std::string& op) const {
    const std::string prefix =
        who_ + ": " + op + " answered " + std::to_string(r.status) + ": " + vault_errors(r);
    switch (r.status) {
      case 400:  // role constraints: names, TTL or key type the role does not allow
        return fail(issuer_errc::policy_violation, prefix);
      case 403:
        return fail(issuer_errc::unavailable, prefix + " (check the token's policy)");
      default:  // 503 sealed, 429/5xx: may pass; the job retries
        return fail(issuer_errc::unavailable, prefix);
    }
  }

  std::string id_;
  std::string who_;
  ext::https_client client_;
  std::string mount_, role_;
  token_source tokens_;
};

}  // namespace

config_schema vault_schema() {
  return config_schema{{
      {"address", field_type::string, true, false,
       "Vault address, https://host:port (CERTCTL_VAULT_ADDR)"},
      {"mount", field_type::string, false, false, "PKI secrets engine mount path (default pki)"},
      {"role", field_type::string, true, false, "PKI role that signs (CERTCTL_VAULT_ROLE)"},
      {"auth_method", field_type::string, false, false, "token (default) or approle"},
      {"token", field_type::string, false, true, "Vault token for token auth"},
      {"role_id", field_type::string, false, false, "AppRole role_id"},
      {"secret_id", field_type::string, false, true, "AppRole secret_id"},
      {"approle_mount", field_type::string, false, false, "AppRole auth mount (default approle)"},
      {"namespace", field_type::string, false, false, "Vault Enterprise namespace"},
      {"ca_bundle_path", field_type::string, false, false,
       "PEM file of the CAs that sign Vault's TLS certificate (default: system store)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
      {"renew_token", field_type::boolean, false, false,
       "renew the token at half its TTL (default true)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_vault_issuer(
    const connector_settings& s, const builtin_context& context) {
  const auto& c = s.config;
  const std::string who = "issuer " + s.id;
  auto url = ext::parse_https_url(c.str("address"), "address");
  if (!url) return url.error();
  const std::string mount = c.str("mount", "pki"), role = c.str("role");
  if (!safe_segment(mount) || !safe_segment(role))
    return fail(issuer_errc::invalid_request,
                who + ": mount and role must be path segments of letters, digits, - _ . /");
  token_config t;
  const std::string method = c.str("auth_method", "token");
  if (method == "token") {
    t.token = c.str("token");
    if (t.token.empty()) return fail(issuer_errc::invalid_request, who + ": token is required");
  } else if (method == "approle") {
    t.role_id = c.str("role_id");
    t.secret_id = c.str("secret_id");
    if (t.role_id.empty() || t.secret_id.empty())
      return fail(issuer_errc::invalid_request, who + ": approle needs role_id and secret_id");
    t.approle_mount = c.str("approle_mount", "approle");
    if (!safe_segment(t.approle_mount))
      return fail(issuer_errc::invalid_request, who + ": approle_mount is not a path segment");
  } else {
    return fail(issuer_errc::invalid_request, who + ": auth_method must be token or approle");
  }
  t.vault_namespace = c.str("namespace");
  t.renew = !c.has("renew_token") || c.boolean("renew_token");
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300)
    return fail(issuer_errc::invalid_request, who + ": timeout_seconds must be 1..300");
  ext::http_options o;
  o.allow = context.outbound_allow;
  o.ca_bundle_path = c.str("ca_bundle_path");
  o.timeout = std::chrono::seconds(timeout);
  return std::shared_ptr<issuer>(
      std::make_shared<vault_issuer>(s.id, ext::https_client(*url, o, who + " (Vault)"), mount,
                                     role, std::move(t), context.on_vault_token_renewal));
}

certctl::result<done, issuer_error> renew_token_now(issuer& i) {
  auto* v = dynamic_cast<vault_issuer*>(&i);
  if (v == nullptr) return fail(issuer_errc::unsupported, "not a Vault issuer");
  return v->renew_now();
}

}  // namespace certctl::connectors::vault

namespace certctl::connectors {

certctl::result<done, std::string> register_vault_connector(connector_registry& registry,
                                                            const builtin_context& context) {
  issuer_registration r;
  r.type = "VaultPKI";
  r.description = "HashiCorp Vault PKI secrets engine (sign/revoke, token or AppRole auth)";
  r.schema = vault::vault_schema();
  r.make = [context](const connector_settings& s) { return vault::make_vault_issuer(s, context); };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
