#include "connectors/issuers/openssl/openssl_ca.hpp"

#include <algorithm>

#include "connectors/issuers/external_ca.hpp"
#include "connectors/issuers/openssl/script_runner.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors::openssl_ca {
namespace {

namespace ext = external_ca;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

constexpr const char* safe_path =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The last non-empty line of a script's stderr, for the error message.
std::string last_line(const std::string& err) {
  std::string s = err;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  const size_t nl = s.rfind('\n');
  return ext::excerpt(nl == std::string::npos ? s : s.substr(nl + 1), 200);
}

std::string join_names(const crypto::subject_alt_names& sans) {
  std::string out;
  for (const auto& d : sans.dns) out += (out.empty() ? "" : ",") + d;
  for (const auto& i : sans.ip) out += (out.empty() ? "" : ",") + i;
  return out;
}

class openssl_issuer final : public issuer {
 public:
  openssl_issuer(std::string id, openssl_ca_config config, std::string sign, std::string revoke,
                 std::string crl, std::string chain)
      : id_(std::move(id)),
        config_(std::move(config)),
        sign_(std::move(sign)),
        revoke_(std::move(revoke)),
        crl_(std::move(crl)),
        chain_(std::move(chain)) {}

  std::string_view type() const override { return "OpenSSL"; }
  const std::string& id() const override { return id_; }
  std::string ca_chain_pem() const override { return chain_; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = !revoke_.empty();
    c.static_ca_chain = !chain_.empty();
    return c;
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    crypto::subject_alt_names names = r.sans;
    if (names.dns.empty() && names.ip.empty()) {
      names.dns = csr->dns_names;
      names.ip = csr->ip_addresses;
    }
    const std::string cn = r.common_name.empty() ? csr->common_name : r.common_name;
    const std::int64_t days = std::max<std::int64_t>(
        1, ext::requested_lifetime_seconds(r, std::int64_t{config_.validity_days} * 86400) / 86400);
    auto env = base_env("sign");
    env.push_back("CERTCTL_COMMON_NAME=" + ext::excerpt(cn, 64));
    env.push_back("CERTCTL_SANS=" + join_names(names));
    env.push_back("CERTCTL_VALIDITY_DAYS=" + std::to_string(days));
    auto out = run({sign_}, env, r.csr_pem, "sign");
    if (!out) return out.error();
    return ext::accept_certificate(*csr, r, out->out, chain_, "sign script");
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    if (revoke_.empty()) return issuer::revoke(r);
    // Both arguments are checked before they reach argv: hex digits only, and a reason from
    // RFC 5280's list, so a script that interpolates them carelessly still gets plain tokens.
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    auto out = run({revoke_, *serial, reason->first}, base_env("revoke"), {}, "revoke");
    if (!out) return out.error();
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    // The paths again: a script replaced or loosened since the issuer was configured fails
    // here, not on the next certificate.
    for (const auto* s : {&config_.sign_script, &config_.revoke_script, &config_.crl_script}) {
      if (s->empty()) continue;
      if (auto ok = check_script_path(*s); !ok)
        return fail(issuer_errc::invalid_request, ok.error().message);
    }
    issuer_test_report report;
    report.message = "sign script " + sign_ + " passes the path checks";
    if (!chain_.empty()) {
      if (auto ca = crypto::parse_certificate(chain_)) {
        report.ca_not_after_us = ca->not_after * 1000000;
        report.message += "; CA " + ca->subject_dn;
      }
    }
    if (!crl_.empty()) {
      // Generating a CRL changes no certificate: the one real call that leaves nothing behind
      // that matters (openssl ca bumps its CRL number).
      auto out = run({crl_}, base_env("crl"), {}, "crl");
      if (!out) return out.error();
      crypto::bytes der;
      if (out->out.find("-----BEGIN X509 CRL-----") != std::string::npos) {
        auto d = pem_crl_to_der(out->out);
        if (!d) return fail(issuer_errc::unavailable, "crl script output: " + d.error());
        der = std::move(*d);
      } else {
        der.assign(out->out.begin(), out->out.end());
      }
      auto crl = crypto::parse_crl(der, chain_.empty() ? std::string_view{} : chain_);
      if (!crl)
        return fail(issuer_errc::unavailable,
                    "crl script output is not a CRL: " + crl.error().message);
      report.message += "; CRL lists " + std::to_string(crl->revoked.size()) + " revoked";
    }
    return report;
  }

 private:
  std::vector<std::string> base_env(const char* operation) const {
    return {safe_path, "LC_ALL=C", std::string("CERTCTL_OPERATION=") + operation,
            "CERTCTL_ISSUER_ID=" + id_};
  }

  certctl::result<script_result, issuer_error> run(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env,
                                                   const std::string& input,
                                                   const char* what) const {
    script_limits limits;
    limits.timeout = std::chrono::seconds(config_.timeout_seconds);
    auto r = run_script(argv, env, input, limits);
    if (!r)
      return fail(issuer_errc::unavailable,
                  "issuer " + id_ + ": " + what + " script: " + r.error().message);
    if (r->exit_code != 0)
      return fail(issuer_errc::unavailable,
                  "issuer " + id_ + ": " + what + " script exited with " +
                      (r->exit_code < 0 ? std::string("a signal") : std::to_string(r->exit_code)) +
                      (r->err.empty() ? "" : ": " + last_line(r->err)));
    return std::move(r).value();
  }

  /// PEM CRL -> DER, without another crypto entry point: base64 between the markers.
  static certctl::result<crypto::bytes, std::string> pem_crl_to_der(const std::string& pem);

  std::string id_;
  openssl_ca_config config_;
  std::string sign_, revoke_, crl_;  ///< canonical paths
  std::string chain_;
};

certctl::result<crypto::bytes, std::string> openssl_issuer::pem_crl_to_der(const std::string& pem) {
  const std::string begin = "-----BEGIN X509 CRL-----", end = "-----END X509 CRL-----";
  const size_t b = pem.find(begin), e = pem.find(end);
  if (b == std::string::npos || e == std::string::npos || e < b) return std::string("no PEM CRL");
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  crypto::bytes out;
  unsigned value = 0;
  int bits = 0;
  for (size_t i = b + begin.size(); i < e; ++i) {
    const char c = pem[i];
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    const size_t v = alphabet.find(c);
    if (v == std::string::npos) return std::string("bad base64 in the PEM CRL");
    value = (value << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((value >> bits) & 0xff));
    }
  }
  return out;
}

certctl::result<std::string, issuer_error> checked(const std::string& id, const std::string& field,
                                                   const std::string& path) {
  auto ok = check_script_path(path);
  if (!ok)
    return fail(issuer_errc::invalid_request,
                "issuer " + id + ": " + field + ": " + ok.error().message);
  return *ok;
}

}  // namespace

certctl::result<std::shared_ptr<issuer>, issuer_error> open_openssl_ca(const std::string& id,
                                                                       const openssl_ca_config& c) {
  if (c.timeout_seconds < 1 || c.timeout_seconds > 600)
    return fail(issuer_errc::invalid_request,
                "issuer " + id + ": timeout_seconds must be between 1 and 600");
  if (c.validity_days < 1 || c.validity_days > 3650)
    return fail(issuer_errc::invalid_request,
                "issuer " + id + ": validity_days must be between 1 and 3650");
  auto sign = checked(id, "sign_script", c.sign_script);
  if (!sign) return sign.error();
  std::string revoke, crl, chain;
  if (!c.revoke_script.empty()) {
    auto r = checked(id, "revoke_script", c.revoke_script);
    if (!r) return r.error();
    revoke = *r;
  }
  if (!c.crl_script.empty()) {
    auto r = checked(id, "crl_script", c.crl_script);
    if (!r) return r.error();
    crl = *r;
  }
  if (!c.ca_chain_path.empty()) {
    auto text = crypto::read_file(c.ca_chain_path, crypto::max_chain_pem);
    if (!text)
      return fail(issuer_errc::invalid_request,
                  "issuer " + id + ": ca_chain_path: " + text.error().message);
    auto parts = crypto::split_pem_chain(*text);
    if (!parts)
      return fail(issuer_errc::invalid_request,
                  "issuer " + id + ": ca_chain_path: " + parts.error().message);
    for (const auto& p : *parts) chain += p;
  }
  return std::shared_ptr<issuer>(
      std::make_shared<openssl_issuer>(id, c, *sign, revoke, crl, chain));
}

config_schema openssl_ca_schema() {
  return config_schema{{
      {"sign_script", field_type::string, true, false,
       "absolute path of the script that reads a CSR PEM on stdin and writes the certificate"},
      {"revoke_script", field_type::string, false, false,
       "absolute path of the script called as <script> <SERIAL_HEX> <rfc5280-reason>"},
      {"crl_script", field_type::string, false, false,
       "absolute path of the script that writes the CA's CRL (DER or PEM) to stdout"},
      {"ca_chain_path", field_type::string, false, false,
       "PEM file of the issuing CA and its parents, issuing CA first"},
      {"timeout_seconds", field_type::integer, false, false,
       "wall-clock limit of one script run, 1..600 (default 30)"},
      {"validity_days", field_type::integer, false, false,
       "CERTCTL_VALIDITY_DAYS when the request names no lifetime (default 90)"},
  }};
}

}  // namespace certctl::connectors::openssl_ca

namespace certctl::connectors {

certctl::result<done, std::string> register_openssl_ca_connector(connector_registry& registry,
                                                                 const builtin_context&) {
  issuer_registration r;
  r.type = "OpenSSL";
  r.description = "an operator's CA driven by sign, revoke and CRL scripts (e.g. openssl ca)";
  r.schema = openssl_ca::openssl_ca_schema();
  r.make =
      [](const connector_settings& s) -> certctl::result<std::shared_ptr<issuer>, issuer_error> {
    openssl_ca::openssl_ca_config c;
    c.sign_script = s.config.str("sign_script");
    c.revoke_script = s.config.str("revoke_script");
    c.crl_script = s.config.str("crl_script");
    c.ca_chain_path = s.config.str("ca_chain_path");
    if (s.config.has("timeout_seconds"))
      c.timeout_seconds = static_cast<int>(s.config.int64("timeout_seconds"));
    if (s.config.has("validity_days"))
      c.validity_days = static_cast<int>(s.config.int64("validity_days"));
    return openssl_ca::open_openssl_ca(s.id, c);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
