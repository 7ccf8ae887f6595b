#include "connectors/issuers/awsacmpca/aws_acm_pca.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include "connectors/common/cloud_auth.hpp"
#include "connectors/issuers/external_ca.hpp"
#include "events/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::connectors::awsacmpca {
namespace {

namespace ext = external_ca;
namespace ca = cloud_auth;

/// Throttled calls are retried this often, waiting 250 ms, 500 ms, 1 s (plus jitter).
constexpr int throttle_retries = 3;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

const std::vector<std::string>& signing_algorithms() {
  static const std::vector<std::string> all = {"SHA256WITHRSA",   "SHA384WITHRSA",
                                               "SHA512WITHRSA",   "SHA256WITHECDSA",
                                               "SHA384WITHECDSA", "SHA512WITHECDSA"};
  return all;
}

struct settings {
  std::string id, who;
  std::string region, ca_arn, template_arn, signing_algorithm;
  std::int64_t validity_days = 365;
  ca::endpoint api;
  ca::transport_options transport;
};

struct api_reply {
  int status = 0;
  std::string error_type;  ///< __type without its namespace; "" on success
  std::string message;
  events::json_object json;
};

/// An issued certificate from PEM the CA returned, for orders whose CSR is not at hand (the
/// issuance service checks it against the stored CSR when it records it).
certctl::result<issued_certificate, issuer_error> from_pem(const std::string& cert_pem,
                                                           const std::string& chain_pem,
                                                           const std::string& who) {
  auto info = crypto::parse_certificate(cert_pem);
  if (!info) return fail(issuer_errc::unavailable, who + ": the CA returned no certificate");
  issued_certificate out;
  out.cert_pem = cert_pem;
  out.chain_pem = chain_pem;
  out.serial_hex = info->serial_hex;
  out.not_before_us = info->not_before * 1000000;
  out.not_after_us = info->not_after * 1000000;
  out.fingerprint_sha256_hex = info->fingerprint_sha256_hex;
  return out;
}

class aws_acm_pca_issuer final : public issuer {
 public:
  aws_acm_pca_issuer(settings s, std::shared_ptr<ca::aws_credential_chain> credentials)
      : s_(std::move(s)), credentials_(std::move(credentials)) {}

  std::string_view type() const override { return type_name; }
  const std::string& id() const override { return s_.id; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.async_orders = true;
    c.static_ca_chain = false;
    return c;
  }

  std::string ca_chain_pem() const override {
    auto reply = ca_certificate();
    if (!reply) return {};
    return join(reply->json.str("Certificate"), reply->json.str("CertificateChain"));
  }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    auto csr = ext::check_csr(r);
    if (!csr) return csr.error();
    auto algorithm = signing_algorithm();
    if (!algorithm) return algorithm.error();
    const std::int64_t lifetime = ext::requested_lifetime_seconds(r, s_.validity_days * 86400);
    events::json_object validity;
    if (lifetime % 86400 == 0) {
      validity.set("Type", "DAYS").set("Value", lifetime / 86400);
    } else {
      // Not whole days: an absolute end (Unix seconds), so the CA never passes the cap.
      validity.set("Type", "ABSOLUTE").set("Value", ca::system_seconds() + lifetime);
    }
    events::json_object body;
    body.set("CertificateAuthorityArn", s_.ca_arn)
        .set("Csr", crypto::base64_encode(r.csr_pem))
        .set("SigningAlgorithm", *algorithm)
        .set_raw("Validity", validity.dump())
        .set("IdempotencyToken", crypto::random_hex(16));
    if (!s_.template_arn.empty()) body.set("TemplateArn", s_.template_arn);
    auto issued = post("IssueCertificate", body.dump());
    if (!issued) return issued.error();
    if (!issued->error_type.empty()) return mapped(*issued, "IssueCertificate");
    const std::string arn = issued->json.str("CertificateArn");
    if (arn.rfind(s_.ca_arn + "/certificate/", 0) != 0)
      return fail(issuer_errc::unavailable,
                  s_.who + ": IssueCertificate answered without a certificate ARN of the CA");
    // The waiter's first look: small certificates are often ready at once.
    auto fetched = get_certificate(arn);
    if (!fetched) return fetched.error();
    if (fetched->error_type == "RequestInProgressException") {
      issued_certificate pending;
      pending.order_id = arn;
      return pending;
    }
    if (!fetched->error_type.empty()) return mapped(*fetched, "GetCertificate");
    auto out = ext::accept_certificate(*csr, r, fetched->json.str("Certificate"),
                                       fetched->json.str("CertificateChain"), "AWS ACM PCA");
    if (out) out->order_id = arn;
    return out;
  }

  certctl::result<order_status, issuer_error> get_order_status(const std::string& arn) override {
    if (arn.rfind(s_.ca_arn + "/certificate/", 0) != 0)
      return fail(issuer_errc::invalid_request,
                  s_.who + ": order " + ext::excerpt(arn, 200) + " is not a certificate of the CA");
    auto fetched = get_certificate(arn);
    if (!fetched) return fetched.error();
    order_status status;
    status.order_id = arn;
    status.updated_at_us = ca::system_seconds() * 1000000;
    const std::string& t = fetched->error_type;
    if (t == "RequestInProgressException") {
      status.state = order_state::pending;
      status.message = "the CA is still issuing the certificate";
      return status;
    }
    if (t == "RequestFailedException" || t == "ResourceNotFoundException") {
      status.state = order_state::invalid;
      status.message = t + ": " + ext::excerpt(fetched->message);
      return status;
    }
    if (!t.empty()) return mapped(*fetched, "GetCertificate");
    auto cert =
        from_pem(fetched->json.str("Certificate"), fetched->json.str("CertificateChain"), s_.who);
    if (!cert) return cert.error();
    status.state = order_state::valid;
    status.certificate = std::move(*cert);
    status.certificate.order_id = arn;
    return status;
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    auto serial = ext::normalise_serial(r.serial_hex);
    if (!serial) return serial.error();
    auto reason = ext::check_reason(r.reason);
    if (!reason) return reason.error();
    const std::string pca = pca_reason(reason->first);
    if (pca.empty())
      return fail(issuer_errc::invalid_request,
                  s_.who + ": ACM Private CA has no revocation reason " + reason->first);
    events::json_object body;
    body.set("CertificateAuthorityArn", s_.ca_arn)
        .set("CertificateSerial", colon_serial(*serial))
        .set("RevocationReason", pca);
    auto reply = post("RevokeCertificate", body.dump());
    if (!reply) return reply.error();
    // Revoked before: the state we want.
    if (reply->error_type == "RequestAlreadyProcessedException") return done{};
    if (!reply->error_type.empty()) return mapped(*reply, "RevokeCertificate");
    return done{};
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    auto reply = ca_certificate();
    if (!reply) return reply.error();
    auto cert = crypto::parse_certificate(reply->json.str("Certificate"));
    if (!cert) return fail(issuer_errc::unavailable, s_.who + ": unreadable CA certificate");
    auto creds = credentials_->credentials();
    issuer_test_report report;
    report.message = "ACM Private CA " + s_.ca_arn + " reachable (credentials from " +
                     (creds ? creds->source : std::string("?")) + "); CA " + cert->subject_dn;
    report.ca_not_after_us = cert->not_after * 1000000;
    return report;
  }

 private:
  static std::string join(std::string a, const std::string& b) {
    if (!a.empty() && a.back() != '\n') a += '\n';
    return a + b;
  }

  certctl::result<api_reply, issuer_error> ca_certificate() const {
    events::json_object body;
    body.set("CertificateAuthorityArn", s_.ca_arn);
    auto reply = post("GetCertificateAuthorityCertificate", body.dump());
    if (!reply) return reply.error();
    if (!reply->error_type.empty()) return mapped(*reply, "GetCertificateAuthorityCertificate");
    return reply;
  }

  certctl::result<api_reply, issuer_error> get_certificate(const std::string& arn) const {
    events::json_object body;
    body.set("CertificateAuthorityArn", s_.ca_arn).set("CertificateArn", arn);
    return post("GetCertificate", body.dump());
  }

  /// The configured algorithm, else the one that suits the CA's own key (the CA signs with its
  /// key; a mismatch is refused by the API), learnt once from the CA certificate.
  certctl::result<std::string, issuer_error> signing_algorithm() {
    if (!s_.signing_algorithm.empty()) return s_.signing_algorithm;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!learnt_algorithm_.empty()) return learnt_algorithm_;
    }
    auto reply = ca_certificate();
    if (!reply) return reply.error();
    auto cert = crypto::parse_certificate(reply->json.str("Certificate"));
    if (!cert) return fail(issuer_errc::unavailable, s_.who + ": unreadable CA certificate");
    std::string algorithm;
    if (cert->key_algorithm == "RSA")
      algorithm = "SHA256WITHRSA";
    else if (cert->key_algorithm == "ECDSA")
      algorithm = cert->key_bits >= 521   ? "SHA512WITHECDSA"
                  : cert->key_bits >= 384 ? "SHA384WITHECDSA"
                                          : "SHA256WITHECDSA";
    else
      return fail(issuer_errc::unavailable,
                  s_.who + ": the CA's " + cert->key_algorithm + " key has no signing algorithm");
    std::lock_guard<std::mutex> lock(mutex_);
    learnt_algorithm_ = algorithm;
    return algorithm;
  }

  /// One SigV4-signed JSON 1.1 call. A service error comes back as a reply with error_type
  /// set; transport failures, and errors that survive the retries, as issuer errors.
  certctl::result<api_reply, issuer_error> post(const std::string& operation,
                                                const std::string& body) const {
    bool retried_auth = false;
    int throttled = 0;
    for (;;) {
      auto creds = credentials_->credentials();
      if (!creds)
        return fail(creds.error().code == ca::auth_errc::unavailable ? issuer_errc::unavailable
                                                                     : issuer_errc::invalid_request,
                    s_.who + ": credentials: " + creds.error().message);
      auto headers = ca::sign_json11(s_.api, "/", "ACMPrivateCA." + operation, body, s_.region,
                                     "acm-pca", *creds, ca::system_seconds());
      auto r = ca::call(s_.api, s_.transport, s_.who, "POST", "/", std::move(headers), body);
      if (!r) return fail(issuer_errc::unavailable, r.error().message);
      api_reply out;
      out.status = r->status;
      if (auto doc = events::json_object::parse(r->body)) out.json = std::move(*doc);
      if (out.status != 200) {
        std::string type = out.json.str("__type");
        if (type.empty())
          for (const auto& [k, v] : r->headers)
            if (k == "x-amzn-errortype") type = v.substr(0, v.find(':'));
        if (const auto hash = type.rfind('#'); hash != std::string::npos)
          type = type.substr(hash + 1);
        out.error_type = type.empty() ? "HTTP" + std::to_string(out.status) : type;
        out.message = out.json.str("message", out.json.str("Message"));
      }
      const std::string& t = out.error_type;
      if ((t == "UnrecognizedClientException" || t == "InvalidSignatureException" ||
           t == "ExpiredTokenException" || t == "InvalidClientTokenId") &&
          !retried_auth) {
        // Rotated or expired keys: resolve the chain again (new instance-role credentials).
        credentials_->forget();
        retried_auth = true;
        continue;
      }
      if ((t == "ThrottlingException" || t == "TooManyRequestsException" || out.status == 503) &&
          throttled < throttle_retries) {
        const int base_ms = 250 << throttled;
        const int jitter =
            static_cast<int>(std::stoul(crypto::random_hex(2), nullptr, 16)) % (base_ms / 5 + 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(base_ms + jitter));
        ++throttled;
        continue;
      }
      return out;
    }
  }

  issuer_error mapped(const api_reply& r, const std::string& op) const {
    const std::string text = s_.who + ": " + op + " answered " + std::to_string(r.status) + " " +
                             r.error_type + ": " + ext::excerpt(r.message);
    const std::string& t = r.error_type;
    if (t == "AccessDeniedException")
      return fail(issuer_errc::invalid_request,
                  text + " (the IAM principal needs acm-pca:" + op + " on the CA)");
    if (t == "UnrecognizedClientException" || t == "InvalidSignatureException" ||
        t == "ExpiredTokenException" || t == "InvalidClientTokenId" || t == "IncompleteSignature" ||
        t == "MissingAuthenticationToken")
      return fail(issuer_errc::invalid_request, text + " (check the AWS credentials)");
    if (t == "MalformedCSRException") return fail(issuer_errc::bad_csr, text);
    if (t == "ResourceNotFoundException" || t == "InvalidArnException")
      return fail(issuer_errc::invalid_request, text + " (check ca_arn and region)");
    if (t == "InvalidArgsException" || t == "InvalidParameterException" ||
        t == "ValidationException" || t == "InvalidRequestException")
      return fail(issuer_errc::policy_violation, text);
    // Throttling left after the retries, a disabled or pending CA, 5xx: later may work.
    return fail(issuer_errc::unavailable, text);
  }

  settings s_;
  std::shared_ptr<ca::aws_credential_chain> credentials_;
  mutable std::mutex mutex_;
  std::string learnt_algorithm_;
};

bool arn_like(const std::string& arn) {
  return arn.rfind("arn:", 0) == 0 && arn.size() < 512 &&
         std::none_of(arn.begin(), arn.end(),
                      [](unsigned char c) { return c <= 0x20 || c == '"' || c == '\\'; });
}

}  // namespace

std::string pca_reason(const std::string& r) {
  if (r.empty() || r == "unspecified") return "UNSPECIFIED";
  if (r == "keyCompromise") return "KEY_COMPROMISE";
  if (r == "cACompromise") return "CERTIFICATE_AUTHORITY_COMPROMISE";
  if (r == "affiliationChanged") return "AFFILIATION_CHANGED";
  if (r == "superseded") return "SUPERSEDED";
  if (r == "cessationOfOperation") return "CESSATION_OF_OPERATION";
  if (r == "privilegeWithdrawn") return "PRIVILEGE_WITHDRAWN";
  if (r == "aACompromise") return "A_A_COMPROMISE";
  return {};
}

std::string colon_serial(const std::string& hex) {
  std::string h = hex;
  if (h.size() % 2) h = "0" + h;
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    if (!out.empty()) out += ':';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(h[i])));
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(h[i + 1])));
  }
  return out;
}

config_schema aws_acm_pca_schema() {
  return config_schema{{
      {"region", field_type::string, true, false, "AWS region, e.g. us-east-1"},
      {"ca_arn", field_type::string, true, false, "ARN of the private CA"},
      {"signing_algorithm", field_type::string, false, false,
       "SHA256WITHRSA ... SHA512WITHECDSA (default: from the CA's key)"},
      {"validity_days", field_type::integer, false, false,
       "lifetime when the request names none, 1..3650 (default 365)"},
      {"template_arn", field_type::string, false, false, "optional certificate template ARN"},
      {"access_key_id", field_type::string, false, false,
       "IAM access key id (default: the AWS credential chain)"},
      {"secret_access_key", field_type::string, false, true, "IAM secret access key"},
      {"session_token", field_type::string, false, true, "STS session token of temporary keys"},
      {"profile", field_type::string, false, false,
       "shared credentials/config file profile (default AWS_PROFILE, else default)"},
      {"use_instance_metadata", field_type::boolean, false, false,
       "ask EC2 instance metadata (IMDSv2) last in the chain (default true; needs "
       "169.254.169.254/32 in CERTCTL_OUTBOUND_ALLOW_CIDRS)"},
      {"instance_metadata_url", field_type::string, false, false,
       "instance metadata endpoint (default http://169.254.169.254)"},
      {"endpoint_url", field_type::string, false, false,
       "API endpoint (default https://acm-pca.{region}.amazonaws.com)"},
      {"ca_bundle_path", field_type::string, false, false,
       "PEM trust anchors of the endpoint (default: the system store)"},
      {"timeout_seconds", field_type::integer, false, false, "per request, 1..300 (default 30)"},
  }};
}

certctl::result<std::shared_ptr<issuer>, issuer_error> make_aws_acm_pca_issuer(
    const connector_settings& in, const builtin_context& context) {
  const auto& c = in.config;
  settings s;
  s.id = in.id;
  s.who = "issuer " + in.id + " (AWS ACM PCA)";
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, s.who + ": " + why);
  };
  s.region = c.str("region");
  if (s.region.empty() || s.region.size() > 32 ||
      !std::all_of(s.region.begin(), s.region.end(),
                   [](unsigned char ch) { return std::isalnum(ch) || ch == '-'; }))
    return bad("region must be an AWS region name");
  s.ca_arn = c.str("ca_arn");
  if (!arn_like(s.ca_arn) || s.ca_arn.find(":certificate-authority/") == std::string::npos)
    return bad("ca_arn must be arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>");
  s.template_arn = c.str("template_arn");
  if (!s.template_arn.empty() && !arn_like(s.template_arn))
    return bad("template_arn must be an ARN");
  s.signing_algorithm = c.str("signing_algorithm");
  const auto& all = signing_algorithms();
  if (!s.signing_algorithm.empty() &&
      std::find(all.begin(), all.end(), s.signing_algorithm) == all.end())
    return bad(
        "signing_algorithm must be one of SHA256WITHRSA, SHA384WITHRSA, SHA512WITHRSA, "
        "SHA256WITHECDSA, SHA384WITHECDSA, SHA512WITHECDSA");
  s.validity_days = c.has("validity_days") ? c.int64("validity_days") : 365;
  if (s.validity_days < 1 || s.validity_days > 3650) return bad("validity_days must be 1..3650");
  auto api = ca::parse_endpoint(
      c.str("endpoint_url", "https://acm-pca." + s.region + ".amazonaws.com"), "endpoint_url");
  if (!api) return bad(api.error().message);
  s.api = *api;
  const std::int64_t timeout = c.has("timeout_seconds") ? c.int64("timeout_seconds") : 30;
  if (timeout < 1 || timeout > 300) return bad("timeout_seconds must be 1..300");
  s.transport.allow = context.outbound_allow;
  s.transport.ca_bundle_path = c.str("ca_bundle_path");
  s.transport.timeout = std::chrono::seconds(timeout);

  ca::aws_chain_options chain;
  chain.configured.access_key_id = c.str("access_key_id");
  chain.configured.secret_access_key = c.str("secret_access_key");
  chain.configured.session_token = c.str("session_token");
  if (chain.configured.access_key_id.empty() != chain.configured.secret_access_key.empty())
    return bad("give access_key_id and secret_access_key together");
  chain.profile = c.str("profile");
  chain.use_instance_metadata = c.boolean("use_instance_metadata", true);
  chain.instance_metadata_url = c.str("instance_metadata_url", "http://169.254.169.254");
  if (auto e = ca::parse_endpoint(chain.instance_metadata_url, "instance_metadata_url", true); !e)
    return bad(e.error().message);
  chain.transport.allow = context.outbound_allow;
  // The metadata service answers at once or not at all (not on EC2): do not wait long.
  chain.transport.timeout = std::chrono::seconds(2);
  return std::shared_ptr<issuer>(std::make_shared<aws_acm_pca_issuer>(
      std::move(s), std::make_shared<ca::aws_credential_chain>(std::move(chain))));
}

}  // namespace certctl::connectors::awsacmpca

namespace certctl::connectors {

certctl::result<done, std::string> register_aws_acm_pca_connector(connector_registry& registry,
                                                                  const builtin_context& context) {
  issuer_registration r;
  r.type = awsacmpca::type_name;
  r.description =
      "AWS Certificate Manager Private CA (JSON 1.1, SigV4, credential chain), asynchronous";
  r.schema = awsacmpca::aws_acm_pca_schema();
  r.make = [context](const connector_settings& s) {
    return awsacmpca::make_aws_acm_pca_issuer(s, context);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
