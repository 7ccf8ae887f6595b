#pragma once
/// Runs issuance outside the entity actors (DESIGN §5: long work never runs in a handler):
/// key generation, CSR checks and CA signing happen on this service's worker threads; each
/// outcome goes back to the job and certificate entities as a command.
///
///   server keygen: job.start -> generate key -> CSR -> issuer.issue -> key store
///                  -> certificate.record_issued -> job.complete
///   agent keygen:  (job.submit_csr already accepted) -> issuer.issue
///                  -> certificate.record_issued -> job.complete
///   any failure:   job.fail -> certificate.record_failure

#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::connectors {
class issuer;
}
namespace certctl::crypto {
class key_store;
}

namespace certctl::actors {

struct issuance_task {
  std::string certificate_id;
  std::string job_id;
  events::json_object certificate;  ///< the certificate's view: common_name, sans, ...
  std::string csr_pem;              ///< empty: server keygen
  std::string correlation_id;
  std::string principal;
};

class issuance_service {
 public:
  issuance_service(entity_runtime& runtime, connectors::issuer& issuer, crypto::key_store& keys,
                   size_t threads = 2);
  ~issuance_service();

  /// Queues the task; returns at once.
  void enqueue(issuance_task task);

  /// Runs a task on the calling thread (tests, and the bounded queue's back-pressure path).
  void run(const issuance_task& task);

  /// Tasks queued or running.
  size_t pending() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::actors
