// PKIOperation (RFC 8894 §3.3): PKCSReq, RenewalReq and GetCertInitial, through the ordinary
// issuance path (certificate -> job -> issuance workers), answered with a CertRep.
#include <condition_variable>

#include "actors/workflows/renewal.hpp"
#include "gateways/http/constant_time.hpp"
#include "gateways/scep/scep_impl.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/csr_attributes.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::scep {
namespace {

using crypto::scep_fail_info;
using crypto::scep_message_type;
using crypto::scep_status;

std::string short_hash(const std::string& text) {
  return crypto::to_hex(crypto::sha256_of(text)).substr(0, 20);
}

/// A PKCSReq's certificate and job follow from the profile and the transaction id, so a
/// resent request and GetCertInitial find them without any table.
transaction_target pkcs_target(const std::string& path_id, const std::string& tid) {
  const std::string h = short_hash("scep\n" + path_id + "\n" + tid);
  return {"mc-scep-" + h, "job-scep-" + h, false, {}};
}

std::string csr_pem_of(const crypto::bytes& der) {
  const std::string b64 = crypto::base64_encode(
      std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

std::string profile_name(const profile_state& ps) {
  return ps.p.config.path_id.empty() ? "default" : ps.p.config.path_id;
}

}  // namespace

http::response scep_server::impl::pki_operation(const http::request_context& c, profile_state& ps,
                                                const crypto::bytes& message, bool mtls) {
  auto m = crypto::open_scep_message(message);
  if (!m) return plain_error(400, m.error().message);
  if (!m->signature_valid)
    return fail(ps, *m, scep_fail_info::bad_message_check, m->signature_error);
  const auto type = static_cast<scep_message_type>(m->message_type);
  const std::string principal = "scep:" + profile_name(ps);
  auto command = [&](std::string name, std::string id, events::json_object body,
                     std::string command_id) {
    domain::command cmd;
    cmd.name = std::move(name);
    cmd.entity_id = std::move(id);
    cmd.body = std::move(body);
    cmd.principal = principal;
    cmd.source_address = c.remote_addr();
    cmd.correlation_id = c.request_id;
    cmd.command_id = std::move(command_id);
    return cmd;
  };

  if (type == scep_message_type::cert_poll) {
    transaction_target t = pkcs_target(ps.p.config.path_id, m->transaction_id);
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = renewals.find(ps.p.config.path_id + "\n" + m->transaction_id);
      if (it != renewals.end()) t = it->second;
    }
    if (!deps.runtime.read("job", t.job_id))
      return fail(ps, *m, scep_fail_info::bad_cert_id, "no request with this transaction id");
    return answer(ps, *m, t);
  }
  if (type != scep_message_type::pkcs_req && type != scep_message_type::renewal_req)
    return fail(ps, *m, scep_fail_info::bad_request,
                "messageType " + std::to_string(m->message_type) + " is not supported");
  auto plain = crypto::decrypt_scep_envelope(m->envelope_der, ps.p.ra_cert_pem, ps.p.ra_key_pem);
  if (!plain) return fail(ps, *m, scep_fail_info::bad_message_check, plain.error().message);
  auto csr = crypto::parse_csr_der(*plain);
  if (!csr) return fail(ps, *m, scep_fail_info::bad_request, csr.error().message);
  auto signer = crypto::parse_certificate(m->signer_cert_pem);
  if (!signer) return fail(ps, *m, scep_fail_info::bad_message_check, signer.error().message);
  // CMS key transport: the issued certificate can only be enveloped to an RSA key.
  if (signer->key_algorithm != "RSA")
    return fail(ps, *m, scep_fail_info::bad_alg, "the signer's key is not RSA");
  const std::string cn = !csr->common_name.empty() ? csr->common_name
                         : !csr->dns_names.empty() ? csr->dns_names.front()
                                                   : std::string();
  if (cn.empty()) return fail(ps, *m, scep_fail_info::bad_request, "the CSR names no subject");

  if (type == scep_message_type::pkcs_req) {
    // RFC 8894 §2.3: a first request is signed with the key it asks to certify.
    if (signer->public_key_der != csr->public_key_der)
      return fail(ps, *m, scep_fail_info::bad_message_check,
                  "the request is not signed with the CSR's key");
    // A resent request (RFC 8894 §3.3.1: same transaction id after a lost answer) gets the
    // original outcome and issues nothing new. Its one-time challenge (an Intune token) was
    // spent by the first attempt, so it is not checked again; answer() gives the certificate
    // only to a message signed with the key it certifies.
    const transaction_target t = pkcs_target(ps.p.config.path_id, m->transaction_id);
    if (deps.issued(t.certificate_id) || deps.runtime.read("job", t.job_id))
      return answer(ps, *m, t);
    auto challenge_attr = crypto::csr_challenge_password(*plain);
    if (!challenge_attr)
      return fail(ps, *m, scep_fail_info::bad_request, challenge_attr.error().message);
    const std::string challenge = challenge_attr->value_or("");
    if (mtls) {
      // The TLS client certificate (verified in dispatch) authenticates the device.
    } else if (ps.p.intune && looks_like_intune_token(challenge)) {
      std::string why;
      const auto outcome =
          ps.p.intune->check(challenge, csr->common_name, csr->dns_names, now(), why);
      if (outcome != intune_outcome::success)
        return fail(ps, *m, scep_fail_info::bad_request,
                    std::string("intune ") + to_string(outcome) + ": " + why);
    } else if (ps.p.config.challenge_password.empty() ||
               !http::constant_time_equal(challenge, ps.p.config.challenge_password)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        ++ps.counters.bad_challenge;
      }
      return fail(ps, *m, scep_fail_info::bad_request, "wrong challenge password");
    }
    std::vector<std::string> sans = csr->dns_names;
    sans.insert(sans.end(), csr->ip_addresses.begin(), csr->ip_addresses.end());
    events::json_object cert;
    cert.set("name", "SCEP " + cn)
        .set("common_name", cn)
        .set("sans", sans)
        .set("issuer_id", ps.p.config.issuer_id)
        .set("renewal_policy_id", "rp-scep")
        .set("owner_id", principal)
        .set("team_id", "team-scep")
        .set("tags", std::map<std::string, std::string>{{"source", "SCEP"},
                                                        {"scep_profile", profile_name(ps)},
                                                        {"scep_transaction", m->transaction_id}});
    if (!ps.p.config.profile_id.empty()) cert.set("certificate_profile_id", ps.p.config.profile_id);
    auto created = deps.runtime.execute(
        "certificate",
        command("certificate.create", t.certificate_id, cert, "scep-create:" + t.certificate_id));
    if (!created)
      return fail(ps, *m, scep_fail_info::bad_request, "certificate: " + created.error().message);
    actors::issuance_start start;
    start.certificate_id = t.certificate_id;
    start.job_id = t.job_id;
    start.principal = principal;
    start.source_address = c.remote_addr();
    start.correlation_id = c.request_id;
    start.job_command_id = "scep-job:" + t.job_id;
    auto started = actors::start_issuance(deps.runtime, {}, created->view, "Issuance", start);
    if (!started.ok())
      return fail(ps, *m, scep_fail_info::bad_request,
                  "job: " + (started.job ? started.job->error().message : std::string("refused")));
    return submit_and_answer(c, ps, *m, t, created->view, csr_pem_of(*plain), principal);
  }

  // RenewalReq (RFC 8894 §3.3.1.2): signed with a certificate this profile's CA issued.
  {
    std::lock_guard<std::mutex> lock(mu);
    ++ps.counters.renewals;
  }
  if (auto v = crypto::verify_issued_by(m->signer_cert_pem, ps.p.ca_chain_pem, now()); !v) {
    const bool expired = v.error().message.find("expired") != std::string::npos ||
                         v.error().message.find("not yet valid") != std::string::npos;
    return fail(ps, *m, expired ? scep_fail_info::bad_time : scep_fail_info::bad_cert_id,
                "renewal signer: " + v.error().message);
  }
  const auto cert_id = deps.certificate_by_serial(signer->serial_hex);
  if (!cert_id)
    return fail(ps, *m, scep_fail_info::bad_cert_id,
                "renewal signer serial " + signer->serial_hex + " is not in the inventory");
  auto current = deps.runtime.read("certificate", *cert_id);
  if (!current) return fail(ps, *m, scep_fail_info::bad_cert_id, current.error().message);
  if (!csr->common_name.empty() && csr->common_name != current->view.str("common_name"))
    return fail(ps, *m, scep_fail_info::bad_request,
                "a renewal must keep the certificate's common name");
  const std::string h = short_hash("scep-renew\n" + ps.p.config.path_id + "\n" + m->transaction_id +
                                   "\n" + signer->serial_hex);
  const transaction_target t{*cert_id, "job-scep-" + h, true, signer->public_key_der};
  {
    std::lock_guard<std::mutex> lock(mu);
    if (renewals.size() > 100000) renewals.clear();  // bounded; polls of old ones say badCertId
    renewals[ps.p.config.path_id + "\n" + m->transaction_id] = t;
  }
  if (deps.runtime.read("job", t.job_id)) return answer(ps, *m, t);  // resent
  actors::issuance_start start;
  start.certificate_id = t.certificate_id;
  start.job_id = t.job_id;
  start.principal = principal;
  start.source_address = c.remote_addr();
  start.correlation_id = c.request_id;
  start.renew_command_id = "scep-renew:" + t.job_id;
  start.job_command_id = "scep-job:" + t.job_id;
  auto started = actors::start_renewal(deps.runtime, {}, start);
  if (!started.ok() || !started.certificate)
    return fail(ps, *m, scep_fail_info::bad_request, "renewal refused");
  return submit_and_answer(c, ps, *m, t, (*started.certificate)->view, csr_pem_of(*plain),
                           principal);
}

http::response scep_server::impl::submit_and_answer(
    const http::request_context& c, profile_state& ps, const crypto::scep_pki_message& m,
    const transaction_target& t, const events::json_object& certificate, const std::string& csr_pem,
    const std::string& principal) {
  domain::command submit;
  submit.name = "job.submit_csr";
  submit.entity_id = t.job_id;
  submit.body.set("csr_pem", csr_pem);
  submit.principal = principal;
  submit.source_address = c.remote_addr();
  submit.correlation_id = c.request_id;
  submit.command_id = "scep-csr:" + t.job_id;
  auto accepted = deps.runtime.execute("job", std::move(submit));
  if (!accepted)
    return fail(ps, m, scep_fail_info::bad_request, "CSR refused: " + accepted.error().message);
  if (accepted->duplicate) return answer(ps, m, t);
  struct issuance_wait {
    std::mutex mu;
    std::condition_variable cv;
    bool over = false;
  };
  auto wait = std::make_shared<issuance_wait>();
  deps.issue({t.certificate_id, t.job_id, certificate, csr_pem, c.request_id, principal}, [wait] {
    {
      std::lock_guard<std::mutex> lock(wait->mu);
      wait->over = true;
    }
    wait->cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(wait->mu);
    wait->cv.wait_for(lock, std::chrono::milliseconds(ps.p.config.issuance_wait_ms),
                      [&] { return wait->over; });
  }
  return answer(ps, m, t);
}

http::response scep_server::impl::answer(profile_state& ps, const crypto::scep_pki_message& m,
                                         const transaction_target& t) {
  if (auto v = deps.issued(t.certificate_id); v && v->job_id == t.job_id) {
    auto chain = crypto::split_pem_chain(v->pem_chain);
    if (!chain || chain->empty())
      return fail(ps, m, scep_fail_info::bad_request, "the issued chain does not parse");
    // Only the requester gets the answer (it is encrypted to whoever signed this message).
    auto signer = crypto::parse_certificate(m.signer_cert_pem);
    auto leaf = crypto::parse_certificate(chain->front());
    const crypto::bytes* expected = t.renewal ? &t.signer_spki : nullptr;
    if (!signer || !leaf || signer->public_key_der != (expected ? *expected : leaf->public_key_der))
      return fail(ps, m, scep_fail_info::bad_cert_id,
                  "the message is not signed with the requester's key");
    return reply(ps, m, scep_status::success, scep_fail_info::bad_request, chain->front());
  }
  auto job = deps.runtime.read("job", t.job_id);
  if (job && job->view.str("status") == "Failed")
    return fail(ps, m, scep_fail_info::bad_request,
                "issuance failed: " + job->view.str("last_error", job->view.str("error")));
  if (job && job->view.str("status") == "Cancelled")
    return fail(ps, m, scep_fail_info::bad_request, "the request was cancelled");
  return reply(ps, m, scep_status::pending, scep_fail_info::bad_request);
}

}  // namespace certctl::gateways::scep
