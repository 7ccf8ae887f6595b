// The EST enrollment path: channel binding, re-enrollment binding, profile policy and rate
// limit, then the ordinary issuance path (certificate + job awaiting the CSR + the issuance
// workers) and the PKCS#7 / multipart answer.
#include <algorithm>
#include <condition_variable>
#include <set>

#include "actors/workflows/profile_policy.hpp"
#include "actors/workflows/renewal.hpp"
#include "gateways/est/est_impl.hpp"
#include "gateways/est/est_wire.hpp"
#include "gateways/http/constant_time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/cms_envelope.hpp"
#include "infra/crypto/csr_attributes.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/pkcs7_certs.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::est {
namespace {

const char* name_of(operation op) {
  switch (op) {
    case operation::simpleenroll:
      return "simpleenroll";
    case operation::simplereenroll:
      return "simplereenroll";
    case operation::serverkeygen:
      return "serverkeygen";
  }
  return "simpleenroll";
}

/// The SANs as certctl's certificate carries them (flat strings), in the CSR's order.
std::vector<std::string> flat_sans(const crypto::subject_alt_names& s) {
  std::vector<std::string> out;
  for (const auto* list : {&s.dns, &s.ip, &s.email, &s.uri})
    for (const auto& v : *list)
      if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
  return out;
}

/// The names a certificate issued for (cn, sans) carries: issuance puts the common name in
/// the SANs when there are none (actors/workflows/issuance_service).
std::set<std::string> effective_names(const std::string& cn, const std::vector<std::string>& sans) {
  std::set<std::string> out(sans.begin(), sans.end());
  if (out.empty() && !cn.empty()) out.insert(cn);
  return out;
}

std::string csr_pem_of(const crypto::bytes& der) {
  const std::string b64 = crypto::base64_encode(
      std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

est_error from_domain(const domain::domain_error& e) {
  switch (e.code) {
    case domain::domain_errc::invalid:
      return {400, e.message, counter::csr_invalid};
    case domain::domain_errc::unavailable:
      return {503, "the server is busy; retry later", counter::internal_error};
    default:
      return {500, e.message, counter::internal_error};
  }
}

}  // namespace

certctl::result<http::response, est_error> est_server::impl::issue(est_request& r, operation op,
                                                                   const crypto::bytes& csr_der,
                                                                   const crypto::csr_info& csr) {
  const auto& cfg = r.p.config;
  const std::string pid = cfg.path_id.empty() ? std::string("root") : cfg.path_id;

  // RFC 7030 §3.5 with RFC 9266: the CSR's challengePassword carries the base64 tls-exporter
  // value of this very connection, so a CSR cannot be replayed over another client's session.
  if (r.mtls_route && cfg.channel_binding_required) {
    if (r.c.raw.tls_exporter.empty())
      return est_error{401, "this profile requires channel binding, which needs TLS 1.3",
                       counter::auth_failed_channel_binding};
    auto pw = crypto::csr_challenge_password(csr_der);
    const std::string expected = crypto::base64_encode(r.c.raw.tls_exporter);
    if (!pw || !pw->has_value() || !http::constant_time_equal(**pw, expected))
      return est_error{401,
                       "the CSR's challengePassword must be the base64 tls-exporter channel "
                       "binding of this TLS connection (RFC 9266)",
                       counter::auth_failed_channel_binding};
  }

  const std::string cn = csr.common_name;
  const auto sans = flat_sans(csr.sans());
  if (cn.empty() && sans.empty())
    return est_error{400, "the CSR names neither a common name nor a subjectAltName",
                     counter::csr_invalid};
  const std::string subject = cn.empty() ? sans.front() : cn;

  // RFC 7030 §4.2.2: a re-enrollment renews the certificate the client authenticated with;
  // its subject and SANs must stay the same.
  std::string renew_id, client_serial;
  if (op == operation::simplereenroll) {
    if (r.client_chain.empty())
      return est_error{401, "simplereenroll needs the TLS client certificate being renewed",
                       counter::auth_failed_mtls};
    auto pem = crypto::certificate_der_to_pem(r.client_chain.front());
    auto current = pem ? crypto::parse_certificate(*pem)
                       : crypto::crypto_result<crypto::certificate_info>(pem.error());
    if (!current)
      return est_error{400, "the TLS client certificate cannot be read", counter::auth_failed_mtls};
    client_serial = current->serial_hex;
    const auto held = effective_names(current->common_name, flat_sans(current->sans));
    if (current->common_name != cn || held != effective_names(cn, sans))
      return est_error{400,
                       "simplereenroll: the CSR's subject and subjectAltNames must equal those of "
                       "the certificate being renewed (RFC 7030 §4.2.2)",
                       counter::csr_policy_violation};
    if (auto owner = deps.certificate_by_serial(client_serial)) {
      auto doc = deps.certificate(*owner);
      const std::string status = doc ? doc->str("status") : "";
      if (status == "Revoked" || status == "Archived")
        return est_error{403, "the certificate being renewed is " + status,
                         counter::auth_failed_mtls};
      // Renew in place when EST made it for this profile; anything else gets a new entry.
      if (doc && doc->str_map("tags")["source"] == "EST" &&
          doc->str_map("tags")["est_profile"] == pid)
        renew_id = *owner;
    }
  }

  actors::profile_policy policy;
  if (!cfg.profile_id.empty()) {
    auto profile = deps.profile(cfg.profile_id);
    if (!profile) {
      log("est " + pid + ": certificate profile " + cfg.profile_id + " does not exist");
      return est_error{500, "the EST profile names a certificate profile that does not exist",
                       counter::internal_error};
    }
    std::string why;
    auto parsed = actors::policy_from_profile(*profile, &why);
    if (!parsed)
      return est_error{500, "certificate profile " + cfg.profile_id + ": " + why,
                       counter::internal_error};
    policy = std::move(*parsed);
    // serverkeygen ignores the CSR's key (the server makes the key), so only its names count.
    if (op != operation::serverkeygen)
      if (auto why_not = actors::check_csr_key(policy, csr.key_algorithm, csr.key_bits))
        return est_error{400, "the CSR was refused: " + *why_not, counter::csr_policy_violation};
  }
  if (auto limited = check_rate(r.p, subject, r.c.remote_addr())) return *limited;

  std::string csr_pem = csr_pem_of(csr_der);
  std::string key_pem;
  if (op == operation::serverkeygen) {
    auto made = crypto::generate_key_and_csr(actors::server_key_type(policy), cn, csr.sans());
    if (!made) {
      log("est " + pid + ": serverkeygen: " + made.error().message);
      return est_error{500, "key generation failed", counter::internal_error};
    }
    csr_pem = std::move(made->csr_pem);
    key_pem = std::move(made->key.pem);
  }

  // Ids from the request, so a client repeating an enrollment after 202 reaches the same
  // certificate and job instead of a second issuance. serverkeygen's key exists only in its
  // answer, so each serverkeygen request is its own enrollment.
  const std::string seed = op == operation::serverkeygen
                               ? crypto::random_hex(16)
                               : pid + "\n" + name_of(op) + "\n" + csr_pem + "\n" + client_serial;
  const std::string hash = crypto::to_hex(crypto::sha256_of(seed)).substr(0, 20);
  const std::string cert_id = renew_id.empty() ? "mc-est-" + hash : renew_id;
  const std::string job_id = "job-est-" + hash;

  auto answer = [&](const std::string& pem_chain) -> certctl::result<http::response, est_error> {
    auto leaf = crypto::certificate_pem_to_der(pem_chain);
    if (!leaf)
      return est_error{500, "the issued certificate cannot be read", counter::internal_error};
    auto p7 = crypto::pkcs7_certs_only({*leaf});
    if (!p7) return est_error{500, "could not encode the certificate", counter::internal_error};
    http::response resp;
    if (op != operation::serverkeygen) {
      r.p.count(op == operation::simpleenroll ? counter::success_simpleenroll
                                              : counter::success_simplereenroll);
      resp.content_type = "application/pkcs7-mime; smime-type=certs-only";
      resp.body = base64_body(*p7);
      resp.with_header("Content-Transfer-Encoding", "base64");
      return resp;
    }
    // RFC 7030 §4.4.2: the key part first, then the certificate.
    auto pkcs8 = pem_block_der(key_pem, "PRIVATE KEY");
    if (!pkcs8) return est_error{500, "could not encode the key", counter::internal_error};
    const std::string_view key_der(reinterpret_cast<const char*>(pkcs8->data()), pkcs8->size());
    mime_part key_part;
    if (!r.client_chain.empty() || !cfg.serverkeygen_pkcs8_allowed) {
      auto env = !r.client_chain.empty()
                     ? crypto::cms_envelope_for_certificate(key_der, r.client_chain.front())
                     : crypto::cms_envelope_for_public_key(key_der, csr.public_key_der);
      if (!env)
        return est_error{400,
                         "the key cannot be encrypted to the client's key (" + env.error().message +
                             "); use an RSA or EC key",
                         counter::csr_invalid};
      key_part = {"application/pkcs7-mime; smime-type=server-generated-key", base64_body(*env)};
    } else {
      key_part = {"application/pkcs8", base64_body(*pkcs8)};
    }
    const std::string boundary = "est-" + crypto::random_hex(12);
    r.p.count(counter::success_serverkeygen);
    resp.content_type = "multipart/mixed; boundary=" + boundary;
    resp.body = multipart_mixed(
        boundary, {key_part, {"application/pkcs7-mime; smime-type=certs-only", base64_body(*p7)}});
    return resp;
  };

  // The same CSR again maps to the same certificate; once that was revoked, its key must not
  // be certified again (a compromised key would come straight back).
  if (renew_id.empty()) {
    auto existing = deps.runtime.read("certificate", cert_id);
    const std::string was = existing ? existing->view.str("status") : "";
    if (was == "Revoked" || was == "Archived")
      return est_error{
          400, "the certificate for this CSR is " + was + "; enroll with a new key (a new CSR)",
          counter::csr_policy_violation};
  }
  if (auto done = deps.issued(cert_id, job_id)) return answer(*done);

  actors::issuance_start st;
  st.certificate_id = cert_id;
  st.job_id = job_id;
  st.max_attempts = 3;
  st.principal = r.principal;
  st.source_address = r.c.remote_addr();
  st.correlation_id = r.c.request_id;
  st.job_command_id = "est-job:" + hash;
  events::json_object view;
  if (!renew_id.empty()) {
    st.renew_command_id = "est-renew:" + hash;
    auto started = actors::start_renewal(deps.runtime, {}, st);
    if (started.certificate && !*started.certificate)
      return from_domain(started.certificate->error());
    if (!started.ok()) return from_domain(started.job->error());
    view = (*started.certificate)->view;
  } else {
    events::json_object cert;
    cert.set("name", "EST " + subject)
        .set("common_name", subject)
        .set("sans", sans)
        .set("issuer_id", cfg.issuer_id)
        .set("renewal_policy_id", opt.renewal_policy_id)
        .set("owner_id", "est-" + pid)
        .set("team_id", opt.team_id)
        .set("tags", std::map<std::string, std::string>{
                         {"source", "EST"}, {"est_profile", pid}, {"est_operation", name_of(op)}});
    if (!cfg.profile_id.empty()) cert.set("certificate_profile_id", cfg.profile_id);
    domain::command create;
    create.name = "certificate.create";
    create.entity_id = cert_id;
    create.body = std::move(cert);
    create.principal = r.principal;
    create.source_address = r.c.remote_addr();
    create.correlation_id = r.c.request_id;
    create.command_id = "est-create:" + hash;
    auto created = deps.runtime.execute("certificate", std::move(create));
    if (!created) return from_domain(created.error());
    view = created->view;
    auto started = actors::start_issuance(deps.runtime, {}, view, "Issuance", st);
    if (!started.ok()) return from_domain(started.job->error());
  }

  // Submit the CSR when the job waits for one: the first time, and again after a retryable
  // failure put the job back to AwaitingCSR (the client's repeated request retries it).
  auto job = deps.runtime.read("job", job_id);
  if (!job) return from_domain(job.error());
  const std::string status = job->view.str("status");
  if (status == "Failed" || status == "Cancelled")
    return est_error{500, "issuance failed: " + job->view.str("last_error"), counter::issuer_error};
  if (status == "AwaitingCSR") {
    domain::command submit;
    submit.name = "job.submit_csr";
    submit.entity_id = job_id;
    submit.body.set("csr_pem", csr_pem);
    submit.principal = r.principal;
    submit.source_address = r.c.remote_addr();
    submit.correlation_id = r.c.request_id;
    auto accepted = deps.runtime.execute("job", std::move(submit));
    if (!accepted) return from_domain(accepted.error());
    struct issuance_wait {
      std::mutex mu;
      std::condition_variable cv;
      bool over = false;
    };
    auto wait = std::make_shared<issuance_wait>();
    deps.issue({cert_id, job_id, view, csr_pem, r.c.request_id, r.principal}, [wait] {
      {
        std::lock_guard<std::mutex> lock(wait->mu);
        wait->over = true;
      }
      wait->cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(wait->mu);
    wait->cv.wait_for(lock, opt.issue_wait, [&] { return wait->over; });
  }
  if (auto done = deps.issued(cert_id, job_id)) return answer(*done);
  auto after = deps.runtime.read("job", job_id);
  if (after && (after->view.str("status") == "Failed" || after->view.str("status") == "Cancelled"))
    return est_error{500, "issuance failed: " + after->view.str("last_error"),
                     counter::issuer_error};
  // Not issued yet (a slow issuer) or a retryable failure: RFC 7030 §4.2.3 lets the client
  // repeat the request after Retry-After; serverkeygen cannot resume, so it is told to retry
  // from scratch.
  const bool failed_once = after && !after->view.str("last_error").empty();
  est_error later{op == operation::serverkeygen || failed_once ? 503 : 202,
                  failed_once
                      ? "issuance failed and will be retried: " + after->view.str("last_error")
                      : "the certificate is not issued yet; repeat the request later",
                  failed_once ? std::optional<counter>(counter::issuer_error) : std::nullopt};
  return later;
}

}  // namespace certctl::gateways::est
