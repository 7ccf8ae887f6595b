// finalize (RFC 8555 §7.4), certificate download (§7.4.2) and revocation (§7.6).
#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "actors/workflows/renewal.hpp"
#include "domain/certificate.hpp"
#include "domain/rules.hpp"
#include "gateways/acme/acme_impl.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::gateways::acme {
namespace {

std::string csr_pem_of(const std::string& der) {
  const std::string b64 = crypto::base64_encode(der);
  std::string pem = "-----BEGIN CERTIFICATE REQUEST-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END CERTIFICATE REQUEST-----\n";
}

problem bad_csr(std::string detail) {
  return {"badCSR", 400, std::move(detail)};
}

}  // namespace

http::response acme_server::impl::finalize(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  auto got = get("acme_order", r.c.path_param("id"), r);
  if (!got) return render(got.error());
  if (got->str("account_id") != a->account_id)
    return render(unauthorized("the order belongs to another account"));
  auto order = reconcile(r, *got, a->principal());
  if (order.str("status") != "ready")
    return render(problem{"orderNotReady", 403, "the order is " + order.str("status")});
  auto body = payload(*a);
  if (!body) return render(body.error());
  http::field_reader in(*body);
  const std::string csr_b64 = in.required_string("csr");
  if (auto e = in.error()) return render(malformed(e->message));
  const auto der = crypto::base64url_decode(csr_b64);
  if (!der || der->empty()) return render(bad_csr("csr is not base64url"));
  auto csr = crypto::parse_csr_der(crypto::bytes(der->begin(), der->end()));
  if (!csr) return render(bad_csr(csr.error().message));

  // RFC 8555 §7.4: the CSR must ask for exactly the order's identifiers, nothing more or less.
  std::set<std::string> wanted, asked;
  const auto ids = events::json_object::parse("{\"v\":" + order.raw("identifiers") + "}");
  for (const auto& id : ids ? ids->object_array("v") : std::vector<events::json_object>{})
    wanted.insert(id.str("value"));
  auto lower = [](std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    return s;
  };
  for (const auto& n : csr->dns_names) asked.insert(lower(n));
  if (!csr->common_name.empty()) {
    if (wanted.count(lower(csr->common_name)) == 0)
      return render(bad_csr("the CSR's common name is not one of the order's identifiers"));
    asked.insert(lower(csr->common_name));
  }
  if (!csr->ip_addresses.empty() || !csr->emails.empty() || !csr->uris.empty())
    return render(bad_csr("the CSR asks for names other than the order's DNS identifiers"));
  if (asked != wanted)
    return render(bad_csr("the CSR's names do not match the order's identifiers exactly"));
  // RFC 8555 §11.1: the certificate key must not be the account key.
  if (csr->public_key_der == a->key.spki_der)
    return render(bad_csr("the certificate key must differ from the account key"));

  // The same issuance path as the REST API: a certctl certificate, a job awaiting this CSR,
  // then the issuance workers. Ids and command ids derive from the order so a retried
  // finalize cannot issue twice.
  const std::string suffix = order.str("id").substr(4, 16);
  const std::string order_stream = domain::stream_id("acme_order", order.str("id"));
  const std::string cert_id = domain::affine_id("mc-" + suffix, order_stream);
  const std::string job_id = domain::affine_id("job-" + suffix, order_stream);
  const std::string cn = csr->common_name.empty() ? *wanted.begin() : lower(csr->common_name);
  events::json_object cert;
  cert.set("name", "ACME " + cn)
      .set("common_name", cn)
      .set("sans", std::vector<std::string>(wanted.begin(), wanted.end()))
      .set("issuer_id", opt.issuer_id)
      .set("renewal_policy_id", opt.renewal_policy_id)
      .set("owner_id", a->account_id)
      .set("team_id", opt.team_id)
      .set("tags", std::map<std::string, std::string>{{"source", "ACME"},
                                                      {"acme_account", a->account_id},
                                                      {"acme_order", order.str("id")}});
  if (!r.profile_id.empty()) cert.set("certificate_profile_id", r.profile_id);
  const std::string order_id = order.str("id");
  const std::string csr_pem = csr_pem_of(*der);
  // The certificate, the job (born Running with the CSR: start.csr_pem) and the order's move
  // to processing depend on nothing but ids chosen here, so they go to the store together and
  // share one group commit; the issuance worker's certificate.issued is the only other one
  // this request waits for. Only the request whose acme_order.finalize wins hands the job to
  // a worker, so concurrent finalizes of one order cannot issue twice.
  events::json_object fin;
  fin.set("certificate_id", cert_id).set("job_id", job_id);
  auto side =
      begin_all({{"certificate", "certificate.create", cert_id, cert, "acme-finalize:" + order_id},
                 {"acme_order", "acme_order.finalize", order_id, std::move(fin)}},
                r, a->principal());
  actors::issuance_start start;
  start.certificate_id = cert_id;
  start.job_id = job_id;
  start.principal = a->principal();
  start.source_address = r.c.remote_addr();
  start.correlation_id = r.c.request_id;
  start.job_command_id = "acme-finalize-job:" + order_id;
  start.csr_pem = csr_pem;
  // The body just sent stands in for the certificate's view: start_issuance reads only its
  // profile, common name and issuer from it.
  auto started = actors::start_issuance(deps.runtime, {}, cert, "Issuance", start);
  auto sent = side->wait();
  auto& created = sent[0];
  auto& processing = sent[1];
  // Not ready any more (a concurrent finalize won) or not recorded: the order is as it was.
  if (!processing) {
    if (processing.error().code == domain::domain_errc::conflict)
      return render(problem{"orderNotReady", 403, processing.error().message});
    return render(from_domain(processing.error()));
  }
  // The order is processing now: whatever stops the issuance here must also settle the order,
  // or it would wait for a certificate forever.
  auto give_up = [&](const domain::domain_error& e, const std::string& why) {
    events::json_object body;
    body.set("error", why + e.message);
    (void)exec("acme_order", "acme_order.record_failure", order_id, body, r, a->principal());
    return render(from_domain(e));
  };
  if (!created) {
    // A job born Running with the CSR would wait for a worker that never comes: close it too.
    if (started.ok() && (*started.job)->view.str("status") == "Running") {
      events::json_object why;
      why.set("error", "certificate " + cert_id + " was not created: " + created.error().message)
          .set("retryable", false);
      (void)exec("job", "job.fail", job_id, why, r, a->principal());
    }
    return give_up(created.error(), "certificate " + cert_id + " was not created: ");
  }
  if (!started.ok()) return give_up(started.job->error(), "job " + job_id + " was not created: ");
  // A job that did not take the CSR at creation: one left by an earlier finalize (before this
  // order was processing) or one that waits for an approval, which refuses it as before.
  if ((*started.job)->view.str("status") != "Running") {
    events::json_object submit;
    submit.set("csr_pem", csr_pem);
    auto accepted = exec("job", "job.submit_csr", job_id, std::move(submit), r, a->principal());
    if (!accepted) return give_up(accepted.error(), "job " + job_id + " refused the CSR: ");
  }
  order = processing->view;
  // Local signing takes milliseconds: wait a little so most clients need not poll. The
  // issuance worker says when its attempt is over, so the answer goes out as soon as the
  // certificate is recorded instead of at the next tick of a poll.
  struct issuance_wait {
    std::mutex mu;
    std::condition_variable cv;
    bool over = false;
  };
  auto wait = std::make_shared<issuance_wait>();
  const auto deadline = std::chrono::steady_clock::now() + opt.finalize_wait;
  actors::issuance_task task{cert_id, job_id,         created->view,
                             csr_pem, r.c.request_id, a->principal()};
  // Parsed and verified above: the worker takes it as it is instead of parsing the PEM again.
  task.parsed_csr = std::make_shared<const crypto::csr_info>(std::move(csr).value());
  deps.issue(std::move(task), [wait] {
    {
      std::lock_guard<std::mutex> lock(wait->mu);
      wait->over = true;
    }
    wait->cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(wait->mu);
    wait->cv.wait_until(lock, deadline, [&] { return wait->over; });
  }
  order = reconcile(r, order, a->principal());
  // Still processing (a retryable failure, or an issuance elsewhere): poll the rest of the wait.
  while (order.str("status") == "processing" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    order = reconcile(r, order, a->principal());
  }
  auto resp = json(order_json(r, order));
  resp.with_header("Location", url(r, "order/" + order.str("id")));
  if (order.str("status") == "processing") resp.with_header("Retry-After", "1");
  return resp;
}

http::response acme_server::impl::certificate(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  const std::string id = r.c.path_param("id");
  auto cert = deps.runtime.read("certificate", id);
  if (!cert || cert->view.str_map("tags")["acme_account"] != a->account_id)
    return render(not_found_problem("no certificate " + id + " for this account"));
  auto issued = deps.issued ? deps.issued(id) : std::nullopt;
  if (!issued) return render(not_found_problem("certificate " + id + " is not issued yet"));
  http::response resp;
  resp.content_type = "application/pem-certificate-chain";
  resp.body = issued->pem_chain;
  return resp;
}

http::response acme_server::impl::revoke(const request& r) {
  auto a = authenticate(r, key_rule::either);
  if (!a) return render(a.error());
  auto body = payload(*a);
  if (!body) return render(body.error());
  http::field_reader in(*body);
  const std::string cert_b64 = in.required_string("certificate");
  const auto reason_code = in.optional_int("reason").value_or(0);
  if (auto e = in.error()) return render(malformed(e->message));
  const auto der = crypto::base64url_decode(cert_b64);
  if (!der || der->empty()) return render(malformed("certificate is not base64url"));
  auto pem = crypto::certificate_der_to_pem(crypto::bytes(der->begin(), der->end()));
  if (!pem) return render(malformed(pem.error().message));
  auto info = crypto::parse_certificate(*pem);
  if (!info) return render(malformed(info.error().message));
  std::string reason;
  for (const char* name : {"unspecified", "keyCompromise", "caCompromise", "affiliationChanged",
                           "superseded", "cessationOfOperation", "certificateHold", "removeFromCRL",
                           "privilegeWithdrawn", "aaCompromise"})
    if (domain::revocation_reason_code(name) == reason_code) reason = name;
  if (reason.empty())
    return render(problem{"badRevocationReason", 400,
                          "reason " + std::to_string(reason_code) + " is not a CRL reason"});
  auto cert_id =
      deps.certificate_by_serial ? deps.certificate_by_serial(info->serial_hex) : std::nullopt;
  if (!cert_id) return render(not_found_problem("the certificate was not issued here"));
  auto cert = deps.runtime.read("certificate", *cert_id);
  if (!cert) return render(from_domain(cert.error()));
  // RFC 8555 §7.6: the account that ordered it, or whoever holds the certificate's key.
  std::string principal;
  if (!a->account_id.empty()) {
    if (cert->view.str_map("tags")["acme_account"] != a->account_id)
      return render(unauthorized("the certificate was not issued to this account"));
    principal = a->principal();
  } else {
    if (a->key.spki_der != info->public_key_der)
      return render(unauthorized("the JWS key is not the certificate's key"));
    principal = "acme:certificate-key";
  }
  if (cert->view.str("status") == "Revoked")
    return render(problem{"alreadyRevoked", 400, "the certificate is already revoked"});
  events::json_object rb;
  rb.set("reason", reason);
  auto res = exec("certificate", "certificate.revoke", *cert_id, rb, r, principal);
  if (!res) {
    if (res.error().code == domain::domain_errc::conflict &&
        res.error().message.find("already revoked") != std::string::npos)
      return render(problem{"alreadyRevoked", 400, res.error().message});
    return render(from_domain(res.error()));
  }
  http::response resp;
  resp.content_type.clear();
  return resp;
}

}  // namespace certctl::gateways::acme
