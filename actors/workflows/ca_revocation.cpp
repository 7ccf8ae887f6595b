#include "actors/workflows/ca_revocation.hpp"

#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include "connectors/issuers/issuer.hpp"
#include "domain/aggregate.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::actors {
namespace {

struct notice {
  std::string certificate_id;
  std::string correlation_id;
};

/// What the certificate's stream says about its latest revocation.
struct revocation_facts {
  bool revoked = false;
  bool answered = false;  ///< a ca_revocation_* event already follows it
  std::string serial;
  std::string reason;
};

bool permanent(connectors::issuer_errc c) {
  return c != connectors::issuer_errc::unavailable && c != connectors::issuer_errc::internal;
}

}  // namespace

struct ca_revocation_service::impl {
  entity_runtime& runtime;
  store::event_store& store;
  issuer_lookup lookup;
  ca_revocation_options options;
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<notice> queue;
  size_t running = 0;
  bool stopping = false;
  std::thread worker;

  impl(entity_runtime& r, store::event_store& s, issuer_lookup l, ca_revocation_options o)
      : runtime(r), store(s), lookup(std::move(l)), options(o) {
    worker = std::thread([this] { run(); });
  }

  void run() {
    for (;;) {
      notice n;
      {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        n = std::move(queue.front());
        queue.pop_front();
        ++running;
      }
      handle(n);
      std::lock_guard<std::mutex> lock(mutex);
      --running;
    }
  }

  revocation_facts facts_of(const std::string& certificate_id) {
    revocation_facts f;
    auto events = store.read_stream(domain::stream_id("certificate", certificate_id));
    if (!events) return f;
    for (const auto& e : *events) {
      if (e.type == "certificate.revoked") {
        auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
        f = revocation_facts{true, false, p.str("serial_number"), p.str("reason")};
      } else if (e.type == "certificate.ca_revocation_succeeded" ||
                 e.type == "certificate.ca_revocation_failed") {
        f.answered = true;
      }
    }
    return f;
  }

  /// Waits `delay` unless the service stops first; false when it stops.
  bool pause(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex);
    return !wake.wait_for(lock, delay, [this] { return stopping; });
  }

  void handle(const notice& n) {
    const auto facts = facts_of(n.certificate_id);
    if (!facts.revoked || facts.answered || facts.serial.empty()) return;
    auto cert = runtime.read("certificate", n.certificate_id);
    if (!cert) return;
    const std::string issuer_id = cert->view.str("issuer_id");
    auto connector = lookup(issuer_id);
    std::string issuer_type;
    if (!connector) {
      record(n, facts, issuer_id, issuer_type, false, 0, connector.error());
      return;
    }
    if (!*connector || !(*connector)->capabilities().revoke) return;  // nothing to tell
    issuer_type = std::string((*connector)->type());
    connectors::revocation_request request{facts.serial, facts.reason};
    auto delay = options.first_backoff;
    std::string last_error;
    int attempt = 0;
    while (attempt < std::max(1, options.max_attempts)) {
      ++attempt;
      auto r = (*connector)->revoke(request);
      if (r) {
        record(n, facts, issuer_id, issuer_type, true, attempt, {});
        return;
      }
      last_error = r.error().message;
      std::cerr << "ca-revocation: certificate " << n.certificate_id << " attempt " << attempt
                << ": " << last_error << std::endl;
      if (permanent(r.error().code)) break;
      if (attempt >= options.max_attempts) break;
      if (!pause(delay)) return;  // stopping: nothing recorded (see the header)
      delay = std::min(delay * 2, options.max_backoff);
    }
    record(n, facts, issuer_id, issuer_type, false, attempt, last_error);
  }

  void record(const notice& n, const revocation_facts& facts, const std::string& issuer_id,
              const std::string& issuer_type, bool ok, int attempts, const std::string& error) {
    domain::command c;
    c.name = "certificate.record_ca_revocation";
    c.entity_id = n.certificate_id;
    c.body.set("serial_number", facts.serial)
        .set("issuer_id", issuer_id)
        .set("issuer_type", issuer_type)
        .set("reason", facts.reason.empty() ? std::string("unspecified") : facts.reason)
        .set("attempts", attempts)
        .set("outcome", ok ? "succeeded" : "failed");
    if (!ok) c.body.set("error", error);
    c.principal = "system:ca-revocation";
    c.correlation_id = n.correlation_id;
    // One outcome per revocation, also if this notice was queued twice.
    c.command_id = "ca-revocation:" + n.certificate_id + ":" + facts.serial;
    auto r = runtime.execute("certificate", c);
    if (!r)
      std::cerr << "ca-revocation: certificate " << n.certificate_id
                << ": outcome not recorded: " << r.error().message << std::endl;
  }
};

ca_revocation_service::ca_revocation_service(entity_runtime& runtime, store::event_store& store,
                                             issuer_lookup lookup, ca_revocation_options options)
    : impl_(std::make_unique<impl>(runtime, store, std::move(lookup), options)) {}

ca_revocation_service::~ca_revocation_service() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->worker.joinable()) impl_->worker.join();
}

void ca_revocation_service::notify(const std::string& certificate_id,
                                   const std::string& correlation_id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->queue.push_back({certificate_id, correlation_id});
  }
  impl_->wake.notify_all();
}

size_t ca_revocation_service::pending() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->queue.size() + impl_->running;
}

}  // namespace certctl::actors
