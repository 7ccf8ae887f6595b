/// Following a CA's pending orders: the first poll is recorded when the CA takes a request
/// as an order (start_order), later polls run as tasks of the issuance queue (follow_order),
/// and a cancelled job's order is withdrawn at the CA (withdraw).
#include "actors/workflows/issuance_service_impl.hpp"

#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"

namespace certctl::actors {

issuance_service::impl::outcome issuance_service::impl::start_order(
    const issuance_task& t, connectors::issuer& target,
    const connectors::issued_certificate& pending, const std::string& csr_pem,
    const std::string& key_pem) {
  // The CSR and a server-made key wait in the key store (durable, sealed), not in an event.
  if (auto s = keys.put(order_csr_id(t.job_id), csr_pem); !s)
    return fail(t, "key store: " + s.error().message, true);
  if (!key_pem.empty())
    if (auto s = keys.put(order_key_id(t.job_id), key_pem); !s)
      return fail(t, "key store: " + s.error().message, true);
  const auto p = policy();
  events::json_object body;
  body.set("order_id", pending.order_id)
      .set("issuer_id", target.id())
      .set("keygen", key_pem.empty() ? "agent" : "server")
      .set("order_state", "pending")
      .set("next_poll_at", events::format_rfc3339(now() + wait_after(p, 0)));
  auto r = runtime.execute("job", make_command(t, "job.await_order", t.job_id, body));
  if (!r) return fail(t, "recording order " + pending.order_id + ": " + r.error().message, true);
  return outcome::succeeded;
}

void issuance_service::impl::forget_order(const std::string& job) {
  keys.remove(order_csr_id(job));
  keys.remove(order_key_id(job));
}

issuance_service::impl::outcome issuance_service::impl::fail_order(const issuance_task& t,
                                                                   const std::string& error,
                                                                   bool retryable) {
  const outcome o = fail(t, error, retryable);
  forget_order(t.job_id);
  return o;
}

connectors::issuer* issuance_service::impl::order_issuer(const issuance_task& t,
                                                         const events::json_object& j,
                                                         std::string& error) {
  issuance_task routed = t;
  routed.certificate.set("issuer_id", j.str("order_issuer_id"));
  issuer_resolver resolve;
  {
    std::lock_guard<std::mutex> lock(mu);
    resolve = resolver;
  }
  connectors::issuer* target = &issuer;
  if (resolve) {
    if (auto* other = resolve(routed, error))
      target = other;
    else if (!error.empty())
      return nullptr;
  }
  if (target->id() != j.str("order_issuer_id")) {
    error = "issuer " + j.str("order_issuer_id") + " of order " + j.str("order_id") + " is gone";
    return nullptr;
  }
  return target;
}

issuance_service::impl::outcome issuance_service::impl::withdraw(const issuance_task& t) {
  auto job = runtime.read("job", t.job_id);
  if (!job) return outcome::skipped;
  const auto& j = job->view;
  if (j.str("status") != "Cancelled" || j.str("order_state") != "pending") return outcome::skipped;
  std::string error;
  connectors::issuer* target = order_issuer(t, j, error);
  events::json_object body;
  body.set("order_id", j.str("order_id"));
  if (target == nullptr) {
    body.set("outcome", "failed").set("message", error);
  } else if (!target->capabilities().cancel_orders) {
    body.set("outcome", "unsupported")
        .set("message", "issuer " + target->id() + " (" + std::string(target->type()) +
                            ") cannot withdraw an order; the CA may still complete it");
  } else if (auto r = target->cancel_order(j.str("order_id")); !r) {
    body.set("outcome", "failed")
        .set("message", "issuer " + target->id() + ": " + r.error().message.substr(0, 500));
  } else {
    body.set("outcome", "cancelled")
        .set("message", "order " + j.str("order_id") + " withdrawn at the CA");
  }
  runtime.execute("job", make_command(t, "job.record_order_cancel", t.job_id, body));
  forget_order(t.job_id);
  return outcome::skipped;
}

issuance_service::impl::outcome issuance_service::impl::follow_order(const issuance_task& t) {
  auto job = runtime.read("job", t.job_id);
  if (!job) return outcome::skipped;
  const auto& j = job->view;
  if (j.str("status") != "Running" || j.str("order_state") != "pending")
    return outcome::skipped;  // finished, cancelled or failed since it was due
  const std::string order_id = j.str("order_id");
  std::string gone;
  connectors::issuer* target = order_issuer(t, j, gone);
  if (target == nullptr) return fail_order(t, gone, false);
  auto p = policy();
  if (const auto own = target->capabilities().order_timeout_seconds; own > 0)
    p.order_timeout = std::chrono::seconds(own);
  const events::timestamp_us at = now();
  auto status = target->get_order_status(order_id);
  if (!status) {
    // The CA is unreachable or refused the poll: poll again later unless the order is too
    // old; a definite "no such order" is invalid (below), not an error.
    const auto started = events::parse_rfc3339(j.str("order_started_at")).value_or(at);
    if (at - started > micros(p.order_timeout))
      return fail_order(
          t, "issuer " + target->id() + ": order " + order_id + ": " + status.error().message,
          true);
    return repoll(t, j, "unreachable", status.error().message, 0, at, p);
  }
  switch (status->state) {
    case connectors::order_state::valid: {
      auto csr_pem = keys.get(order_csr_id(t.job_id));
      if (!csr_pem) return fail_order(t, "order " + order_id + ": its CSR is gone", true);
      std::string key_pem;
      if (j.str("order_keygen") == "server") {
        auto key = keys.get(order_key_id(t.job_id));
        if (!key) return fail_order(t, "order " + order_id + ": its key is gone", true);
        key_pem = std::move(key).value();
      }
      auto csr = crypto::parse_csr(*csr_pem);
      if (!csr) return fail_order(t, "order " + order_id + ": stored CSR unreadable", true);
      // The CSR is gone from the CA's side by now: whatever it hands back must certify the
      // key this order asked for, or it is not ours to record.
      if (auto leaf = crypto::parse_certificate(status->certificate.cert_pem);
          leaf && leaf->public_key_der != csr->public_key_der)
        return fail_order(t,
                          "issuer " + target->id() + ": order " + order_id +
                              " returned a certificate for another key",
                          false);
      const outcome o = record(t, target->id(), status->certificate, *csr_pem, key_pem,
                               csr->key_algorithm, csr->key_bits);
      if (o == outcome::succeeded) forget_order(t.job_id);
      return o;
    }
    case connectors::order_state::invalid:
    case connectors::order_state::expired:
      return fail_order(t,
                        "issuer " + target->id() + ": order " + order_id + " is " +
                            std::string(connectors::to_string(status->state)) +
                            (status->message.empty() ? "" : ": " + status->message),
                        true);
    case connectors::order_state::pending:
      break;
  }
  const auto started = events::parse_rfc3339(j.str("order_started_at")).value_or(at);
  if (at - started > micros(p.order_timeout))
    return fail_order(t,
                      "issuer " + target->id() + ": order " + order_id + " still pending after " +
                          std::to_string(p.order_timeout.count()) + " s",
                      true);
  return repoll(t, j, status->ca_state.empty() ? "processing" : status->ca_state, status->message,
                status->retry_after_us, at, p);
}

issuance_service::impl::outcome issuance_service::impl::repoll(
    const issuance_task& t, const events::json_object& job, const std::string& ca_state,
    const std::string& message, events::timestamp_us not_before, events::timestamp_us at,
    const order_policy& p) {
  const events::timestamp_us next =
      std::max(at + wait_after(p, job.int64("order_polls") + 1), not_before);
  events::json_object body;
  body.set("order_state", "pending")
      .set("ca_state", ca_state)
      .set("next_poll_at", events::format_rfc3339(next));
  if (!message.empty()) body.set("message", message.substr(0, 500));
  runtime.execute("job", make_command(t, "job.poll_order", t.job_id, body));
  return outcome::skipped;
}

void issuance_service::poll_order(const std::string& job_id, const std::string& certificate_id,
                                  const std::string& correlation_id) {
  issuance_task t;
  t.job_id = job_id;
  t.certificate_id = certificate_id;
  t.correlation_id = correlation_id;
  t.principal = "system:orders";
  t.poll_order = true;
  // The certificate's issuer decides which queue slot the poll takes.
  if (auto cert = impl_->runtime.read("certificate", certificate_id)) t.certificate = cert->view;
  enqueue(std::move(t));
}

void issuance_service::cancel_order(const std::string& job_id, const std::string& certificate_id,
                                    const std::string& correlation_id,
                                    const std::string& principal) {
  issuance_task t;
  t.job_id = job_id;
  t.certificate_id = certificate_id;
  t.correlation_id = correlation_id;
  t.principal = principal;
  t.cancel_order = true;
  if (auto cert = impl_->runtime.read("certificate", certificate_id)) t.certificate = cert->view;
  enqueue(std::move(t));
}

}  // namespace certctl::actors
