#include "actors/workflows/issuance_service.hpp"
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

domain::command make_command(const issuance_task& t, const std::string& name, const std::string& id,
                             events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = t.principal.empty() ? "system:issuance" : t.principal;
  c.correlation_id = t.correlation_id;
  return c;
}

}  // namespace

struct issuance_service::impl {
  entity_runtime& runtime;
  connectors::issuer& issuer;
  crypto::key_store& keys;
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<issuance_task> queue;
  /// Parallel to `queue`: who waits for each task (empty function: nobody).
  std::deque<std::function<void()>> waiters;
  /// Parallel to `queue`: each task's issuer, read from its JSON once at enqueue, and how many
  /// queued tasks each issuer has. Scanning the JSON of a queue thousands long on every wake
  /// was ~6 % of the server's CPU in the issuance benchmark.
  std::deque<std::string> queued_issuers;
  std::map<std::string, size_t> queued_per_issuer;
  size_t running = 0;
  bool stopping = false;
  std::vector<std::thread> workers;
  retry_schedule retry_at;                  ///< guarded by mu
  profile_lookup profiles;                  ///< guarded by mu
  issuance_observer observer;               // guarded by mu
  issuer_resolver resolver;                 ///< guarded by mu
  issuance_gate gate;                       ///< guarded by mu
  issued_listener on_issued;                ///< guarded by mu
  order_policy orders;                      ///< guarded by mu
  size_t per_issuer_limit = 1;              ///< guarded by mu
  std::map<std::string, size_t> in_flight;  ///< issuer id -> tasks running; guarded by mu

  impl(entity_runtime& r, connectors::issuer& i, crypto::key_store& k)
      : runtime(r), issuer(i), keys(k) {}

  static std::string issuer_key(const issuance_task& t) { return t.certificate.str("issuer_id"); }

  /// The first queued task whose issuer is below its limit; queue.size() when none. Under mu.
  size_t runnable() const {
    auto below_limit = [&](const std::string& issuer) {
      auto it = in_flight.find(issuer);
      return it == in_flight.end() || it->second < per_issuer_limit;
    };
    // Every issuer with queued work at its limit (the usual state under load): nothing runs.
    bool any = false;
    for (const auto& q : queued_per_issuer) any = any || below_limit(q.first);
    if (!any) return queue.size();
    for (size_t i = 0; i < queue.size(); ++i)
      if (below_limit(queued_issuers[i])) return i;
    return queue.size();
  }

  order_policy policy() {
    std::lock_guard<std::mutex> lock(mu);
    return orders;
  }

  events::timestamp_us now() {
    auto p = policy();
    if (p.now) return p.now();
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  /// Key store ids of what a pending order finishes with (valid_key_id: job ids are safe).
  static std::string order_csr_id(const std::string& job) { return "order-" + job + "-csr"; }
  static std::string order_key_id(const std::string& job) { return "order-" + job + "-key"; }

  enum class outcome { skipped, succeeded, failed };

  outcome fail(const issuance_task& t, const std::string& error, bool retryable) {
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

  /// Runs one task and reports its outcome to the observer, if any.
  void run(const issuance_task& t) {
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

  outcome attempt(const issuance_task& t) {
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

  /// Records an issued certificate on its entity and completes the job.
  outcome record(const issuance_task& t, const std::string& issuer_id,
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

  /// The CA took the request as an order: keep what finishing needs, record the order on the
  /// job, and leave the rest to the order poller.
  outcome start_order(const issuance_task& t, connectors::issuer& target,
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

  /// The wait before poll `polls` + 1 (order_schedule.hpp), jitter drawn here.
  static std::int64_t wait_after(const order_policy& p, std::int64_t polls) {
    return poll_wait_us(p.ladder, polls, p.jitter, p.random ? p.random() : random_unit());
  }

  static std::int64_t micros(std::chrono::seconds s) {
    return std::chrono::duration_cast<std::chrono::microseconds>(s).count();
  }

  void forget_order(const std::string& job) {
    keys.remove(order_csr_id(job));
    keys.remove(order_key_id(job));
  }

  outcome fail_order(const issuance_task& t, const std::string& error, bool retryable) {
    const outcome o = fail(t, error, retryable);
    forget_order(t.job_id);
    return o;
  }

  /// The issuer that took the job's order, whatever the certificate names now; nullptr with
  /// `error` set when it is gone.
  connectors::issuer* order_issuer(const issuance_task& t, const events::json_object& j,
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

  /// Withdraws a cancelled job's pending order at the CA; the outcome goes on the job.
  outcome withdraw(const issuance_task& t) {
    auto job = runtime.read("job", t.job_id);
    if (!job) return outcome::skipped;
    const auto& j = job->view;
    if (j.str("status") != "Cancelled" || j.str("order_state") != "pending")
      return outcome::skipped;
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

  /// One poll of the job's pending order.
  outcome follow_order(const issuance_task& t) {
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

  /// Records the poll and when the next one is due: the ladder step for the polls so far,
  /// jittered, and never before the CA's Retry-After (`not_before`, 0: none).
  outcome repoll(const issuance_task& t, const events::json_object& job,
                 const std::string& ca_state, const std::string& message,
                 events::timestamp_us not_before, events::timestamp_us at, const order_policy& p) {
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

  void work() {
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
};

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
