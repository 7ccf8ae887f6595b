#include "actors/workflows/issuance_service_impl.hpp"
#include "actors/workflows/profile_policy.hpp"

#include <arpa/inet.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "connectors/issuers/issuer.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/fault_point.hpp"

namespace certctl::actors {
namespace {

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

/// Sorts the API's flat SAN strings into their X.509 kinds.
crypto::subject_alt_names classify_sans(const std::string& common_name,
                                        const std::vector<std::string>& sans) {
  crypto::subject_alt_names out;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (s.find("://") != std::string::npos)
      out.uri.push_back(s);
    else if (s.find('@') != std::string::npos)
      out.email.push_back(s);
    else if (is_ip(s))
      out.ip.push_back(s);
    else
      out.dns.push_back(s);
  };
  for (const auto& s : sans) add(s);
  if (out.empty()) add(common_name);
  return out;
}

}  // namespace

domain::command issuance_service::impl::make_command(const issuance_task& t,
                                                     const std::string& name, const std::string& id,
                                                     events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = t.principal.empty() ? "system:issuance" : t.principal;
  c.correlation_id = t.correlation_id;
  return c;
}

issuance_service::impl::outcome issuance_service::impl::fail(const issuance_task& t,
                                                             const std::string& error,
                                                             bool retryable) {
  events::json_object body;
  body.set("error", error).set("retryable", retryable);
  if (retryable) {
    retry_schedule schedule;
    {
      std::lock_guard<std::mutex> lock(mu);
      schedule = retry_at;
    }
    if (schedule) body.set("next_attempt_at", events::format_rfc3339(schedule(t)));
  }
  auto job = runtime.execute("job", make_command(t, "job.fail", t.job_id, body));
  // While the job will be retried the certificate stays in its in-progress state, so the
  // renewal check does not mistake a pending retry for a final failure.
  if (job && job->view.str("status") != "Failed") return outcome::failed;
  events::json_object cert_body;
  cert_body.set("job_id", t.job_id).set("error", error);
  runtime.execute("certificate",
                  make_command(t, "certificate.record_failure", t.certificate_id, cert_body));
  return outcome::failed;
}

void issuance_service::impl::run(const issuance_task& t) {
  const auto began = std::chrono::steady_clock::now();
  const outcome o = attempt(t);
  if (o == outcome::skipped) return;
  issuance_observer notify;
  {
    std::lock_guard<std::mutex> lock(mu);
    notify = observer;  // a copy, so the call runs outside the lock
  }
  if (notify)
    notify(std::string(issuer.type()), o == outcome::succeeded,
           std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
}

issuance_service::impl::outcome issuance_service::impl::attempt(const issuance_task& t) {
  if (t.cancel_order) return withdraw(t);
  if (t.poll_order) return follow_order(t);
  const bool server_keygen = t.csr_pem.empty();
  if (server_keygen) {
    auto started = runtime.execute("job", make_command(t, "job.start", t.job_id, {}));
    if (!started) return outcome::skipped;  // cancelled or already taken: nothing to do
  }
  // A retry of a job whose version was recorded before its worker died: complete it, sign
  // nothing (a second certificate for one request is what exactly-once forbids).
  events::json_object probe;
  probe.set("job_id", t.job_id);
  auto check = runtime.execute(
      "certificate", make_command(t, "certificate.check_issuance", t.certificate_id, probe));
  if (!check && check.error().code == domain::domain_errc::conflict) {
    runtime.execute("job", make_command(t, "job.complete", t.job_id, {}));
    return outcome::skipped;
  }
  issuance_gate check_gate;
  {
    std::lock_guard<std::mutex> lock(mu);
    check_gate = gate;
  }
  if (check_gate)
    if (auto refused = check_gate(t)) return fail(t, *refused, false);
  std::string csr_pem = t.csr_pem;
  std::string key_pem;
  const std::string cn = t.certificate.str("common_name");
  const auto sans = classify_sans(cn, t.certificate.str_array("sans"));
  profile_policy policy;
  const std::string profile_id = t.certificate.str("certificate_profile_id");
  if (!profile_id.empty()) {
    profile_lookup lookup;
    {
      std::lock_guard<std::mutex> lock(mu);
      lookup = profiles;
    }
    if (lookup) {
      auto profile = lookup(profile_id);
      if (!profile) return fail(t, "certificate profile " + profile_id + " not found", false);
      if (!profile->boolean("enabled", true))
        return fail(t, "certificate profile " + profile_id + " is disabled", false);
      std::string why;
      auto parsed = policy_from_profile(*profile, &why);
      if (!parsed) return fail(t, "certificate profile " + profile_id + ": " + why, false);
      policy = std::move(*parsed);
    }
  }
  // Names first: a profile that forbids them needs no key and no CA call.
  if (auto why = check_names(policy, cn, sans))
    return fail(t, "certificate profile " + profile_id + ": " + *why, false);
  // The CSR is parsed (and its signature verified) at most once: a CSR built here comes with
  // its parsed form, and the local CA takes the parsed form instead of parsing again.
  crypto::csr_info csr;
  if (server_keygen) {
    auto generated = crypto::generate_key_and_csr(server_key_type(policy), cn, sans);
    if (!generated) return fail(t, "key generation failed: " + generated.error().message, true);
    key_pem = std::move(generated->key.pem);
    csr_pem = std::move(generated->csr_pem);
    csr = std::move(generated->csr);
  } else if (t.parsed_csr) {
    csr = *t.parsed_csr;
  } else {
    auto parsed = crypto::parse_csr(csr_pem);
    if (!parsed) return fail(t, "CSR rejected: " + parsed.error().message, false);
    csr = std::move(parsed).value();
  }
  if (auto why = check_csr_key(policy, csr.key_algorithm, csr.key_bits))
    return fail(t, "CSR rejected: " + *why, false);
  connectors::issuance_request req;
  req.csr_pem = csr_pem;
  req.common_name = cn;
  req.sans = sans;
  req.max_ttl_us = policy.max_ttl_us;
  req.ekus = policy.ekus;
  req.must_staple = policy.must_staple;
  for (const auto& [alg, min] : policy.allowed_keys) {
    req.allowed_key_algorithms.push_back(alg);
    if (alg == "RSA") req.min_rsa_bits = std::max(req.min_rsa_bits, min);
  }
  issuer_resolver resolve;
  {
    std::lock_guard<std::mutex> lock(mu);
    resolve = resolver;
  }
  connectors::issuer* chosen = &issuer;
  if (resolve) {
    std::string why;
    if (auto* other = resolve(t, why))
      chosen = other;
    else if (!why.empty())
      return fail(t, why, false);
  }
  connectors::issuer& target = *chosen;
  // Other issuers (network CAs) take the CSR as PEM through the issuer interface.
  auto* local = dynamic_cast<connectors::local_ca*>(&target);
  auto issued = local != nullptr ? local->issue_parsed(req, csr) : target.issue(req);
  if (!issued) {
    const bool retryable = issued.error().code == connectors::issuer_errc::unavailable ||
                           issued.error().code == connectors::issuer_errc::internal;
    return fail(t, "issuer " + target.id() + ": " + issued.error().message, retryable);
  }
  if (issued->cert_pem.empty()) {
    if (issued->order_id.empty() || !target.capabilities().async_orders)
      return fail(t, "issuer " + target.id() + " returned no certificate", true);
    return start_order(t, target, *issued, csr_pem, key_pem);
  }
  return record(t, target.id(), *issued, csr_pem, key_pem, csr.key_algorithm, csr.key_bits);
}

issuance_service::impl::outcome issuance_service::impl::record(
    const issuance_task& t, const std::string& issuer_id,
    const connectors::issued_certificate& cert, const std::string& csr_pem,
    const std::string& key_pem, const std::string& key_algorithm, int key_bits) {
  const bool server_keygen = !key_pem.empty();
  const std::string version_id = "cv-" + crypto::random_hex(8);
  if (server_keygen) {
    // The key lives only in the encrypted key store, never in an event; one per version
    // (crypto::certificate_key_id), so a renewal never replaces the current version's key.
    auto stored = keys.put(crypto::certificate_key_id(t.certificate_id, version_id), key_pem);
    if (!stored) return fail(t, "key store: " + stored.error().message, true);
    infra::fault_point("after_key_store_write");  // crash trials only (docs/fault-tests.md)
  }
  const connectors::issued_certificate* issued = &cert;
  events::json_object v;
  v.set("job_id", t.job_id)
      .set("version_id", version_id)
      .set("serial_number", issued->serial_hex)
      .set("not_before", events::format_rfc3339(issued->not_before_us))
      .set("not_after", events::format_rfc3339(issued->not_after_us))
      .set("fingerprint_sha256", issued->fingerprint_sha256_hex)
      .set("pem_chain", issued->cert_pem + issued->chain_pem)
      .set("csr_pem", csr_pem)
      .set("key_algorithm", key_algorithm)
      .set("key_size", static_cast<std::int64_t>(key_bits))
      .set("issuer_id", issuer_id)
      .set("keygen", server_keygen ? "server" : "agent");
  auto recorded = runtime.execute(
      "certificate", make_command(t, "certificate.record_issued", t.certificate_id, v));
  if (!recorded) {
    // Unavailable (the store or the entity's owner did not answer) may have committed all
    // the same: the retry asks check_issuance first and completes instead of signing again.
    const bool transient = recorded.error().code == domain::domain_errc::unavailable;
    return fail(t, "recording the issued certificate failed: " + recorded.error().message,
                transient);
  }
  events::json_object done;
  done.set("version_id", version_id);
  // Submitted, not awaited: the certificate is recorded, so the worker (and whoever waits
  // on this task, such as an ACME finalize) need not sit out one more group commit. The
  // job's entity still runs it before any later command or read of that job; a failure is
  // what it was before (ignored here, the job stays Running for the job loops).
  runtime.submit("job", make_command(t, "job.complete", t.job_id, done), [](command_result) {});
  issued_listener listener;
  {
    std::lock_guard<std::mutex> lock(mu);
    listener = on_issued;
  }
  if (listener) listener(t, version_id, recorded->view);
  return outcome::succeeded;
}

void issuance_service::impl::work() {
  for (;;) {
    issuance_task t;
    std::function<void()> finished;
    std::string issuer;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stopping || runnable() < queue.size(); });
      const size_t next = runnable();
      if (next >= queue.size()) return;  // stopping
      t = std::move(queue[next]);
      queue.erase(queue.begin() + static_cast<std::ptrdiff_t>(next));
      finished = std::move(waiters[next]);
      waiters.erase(waiters.begin() + static_cast<std::ptrdiff_t>(next));
      issuer = std::move(queued_issuers[next]);
      queued_issuers.erase(queued_issuers.begin() + static_cast<std::ptrdiff_t>(next));
      if (--queued_per_issuer[issuer] == 0) queued_per_issuer.erase(issuer);
      ++running;
      ++in_flight[issuer];
    }
    run(t);
    if (finished) finished();
    {
      std::lock_guard<std::mutex> lock(mu);
      --running;
      if (--in_flight[issuer] == 0) in_flight.erase(issuer);
    }
    // A slot of this issuer is free: a task that waited for it may run now.
    cv.notify_all();
  }
}

issuance_service::issuance_service(entity_runtime& runtime, connectors::issuer& issuer,
                                   crypto::key_store& keys, size_t threads)
    : impl_(std::make_unique<impl>(runtime, issuer, keys)) {
  impl_->per_issuer_limit = threads > 1 ? threads - 1 : 1;
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i)
    impl_->workers.emplace_back([this] { impl_->work(); });
}

issuance_service::~issuance_service() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  for (auto& w : impl_->workers) w.join();
}

void issuance_service::enqueue(issuance_task task) {
  enqueue(std::move(task), {});
}

void issuance_service::enqueue(issuance_task task, std::function<void()> on_finished) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto issuer = impl::issuer_key(task);
    ++impl_->queued_per_issuer[issuer];
    impl_->queued_issuers.push_back(std::move(issuer));
    impl_->queue.push_back(std::move(task));
    impl_->waiters.push_back(std::move(on_finished));
  }
  impl_->cv.notify_one();
}

void issuance_service::run(const issuance_task& task) {
  impl_->run(task);
}

void issuance_service::set_retry_schedule(retry_schedule schedule) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->retry_at = std::move(schedule);
}

void issuance_service::set_issuer_resolver(issuer_resolver resolver) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->resolver = std::move(resolver);
}

void issuance_service::set_issuance_gate(issuance_gate gate) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->gate = std::move(gate);
}

void issuance_service::set_profile_lookup(profile_lookup lookup) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->profiles = std::move(lookup);
}

void issuance_service::set_issued_listener(issued_listener listener) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->on_issued = std::move(listener);
}

void issuance_service::set_order_policy(order_policy policy) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->orders = std::move(policy);
}

void issuance_service::set_per_issuer_limit(size_t limit) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->per_issuer_limit = std::max<size_t>(1, limit);
  }
  impl_->cv.notify_all();
}

size_t issuance_service::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->queue.size() + impl_->running;
}

void issuance_service::set_observer(issuance_observer observer) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->observer = std::move(observer);
}

}  // namespace certctl::actors
