#pragma once
/// Revocation across issuers: after a revocation is recorded here (certificate.revoked; our
/// CRL and OCSP answer from it at once), the issuing CA is told, best effort, on this
/// service's worker thread, never inside an entity's handler and never before the local record.
///
///   notify(id) -> queue -> worker: certificate stream -> last certificate.revoked (serial,
///                 reason), not yet answered by a ca_revocation_* event
///              -> the certificate's issuer -> its connector (issuer_lookup)
///                   none / capabilities().revoke false -> nothing to tell (GenericCA)
///              -> issuer.revoke(serial, reason), retried on `unavailable` with exponential
///                 backoff (first_backoff, doubling, at most max_backoff) up to max_attempts;
///                 a permanent error (invalid_request, unsupported, ...) ends at once
///              -> certificate.record_ca_revocation -> certificate.ca_revocation_succeeded
///                                                   | certificate.ca_revocation_failed
///
/// Known limit: a notification still queued or waiting for its next attempt when the server
/// stops is not resumed on the next start; the certificate then has certificate.revoked and
/// no ca_revocation_* event, which the event log shows.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuer_resolver.hpp"

namespace certctl::store {
class event_store;
}

namespace certctl::actors {

struct ca_revocation_options {
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{std::chrono::seconds(2)};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(1)};
};

class ca_revocation_service {
 public:
  /// `runtime`, `store` and whatever `lookup` refers to must outlive the service.
  ca_revocation_service(entity_runtime& runtime, store::event_store& store, issuer_lookup lookup,
                        ca_revocation_options options = {});
  /// Stops the worker; queued notifications and pending retries are dropped (see above).
  ~ca_revocation_service();
  ca_revocation_service(const ca_revocation_service&) = delete;
  ca_revocation_service& operator=(const ca_revocation_service&) = delete;

  /// Queues telling the CA about certificate `certificate_id`'s latest revocation; returns at
  /// once. `correlation_id`: the revoke request's, carried into the outcome event.
  void notify(const std::string& certificate_id, const std::string& correlation_id = {});

  /// Notifications queued or in progress.
  size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::actors
