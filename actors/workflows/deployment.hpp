#pragma once
/// Deployment jobs (issue 12): the command sequence that puts a certificate on its targets,
/// shared by POST /api/v1/certificates/{id}/deploy, POST /api/v1/targets/{id}/test and the
/// automatic deployment after every issuance or renewal, so all leave the same events.
///
///   per target:  read target -> read its agent --usable--> job.create {Deployment, Pending}
///                                               \-unknown or retired agent, or a server-
///                                                 generated key--> job.create, job.start,
///                                                   job.fail {error names the reason, final}
///   the agent:   GET work -> job.start (Running) -> validate/deploy/verify[/rollback]
///                -> job.complete {message} | job.fail {error, final}
///
/// A Validation job (target test) runs only the target's validate() on its agent.

#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::actors {

struct deployment_start {
  std::string certificate_id;  ///< empty for a Validation job
  /// Targets to deploy to; empty: the certificate's own target_ids.
  std::vector<std::string> target_ids;
  std::string principal;
  std::string source_address;
  std::string correlation_id;
  /// When set, job ids are "<job_id_prefix>-<target id>" and job.create is idempotent under
  /// "job.create:<job id>", so a repeated trigger (a retried hand-off) adds no second job.
  std::string job_id_prefix;
};

/// What happened for one target.
struct deployment_outcome {
  std::string target_id;
  std::string job_id;   ///< empty when no job was created (unknown target)
  bool queued = false;  ///< a Pending job waits for the target's agent
  /// Why not: unknown target, unusable agent, store failure. With `queued`: a warning (the
  /// agent is offline; the job waits for it).
  std::string error;
  std::int64_t position = 0;
};

/// Creates one Deployment job per target; see the diagram above.
std::vector<deployment_outcome> start_deployments(entity_runtime& runtime,
                                                  const deployment_start& start);

/// Creates the Validation job of `target_id` (POST /api/v1/targets/{id}/test).
deployment_outcome start_target_validation(entity_runtime& runtime, const std::string& target_id,
                                           const deployment_start& who);

/// The deployments due after `certificate_id` was issued (version `version_id`): one job per
/// target of the certificate, with ids derived from the version, so each version is deployed
/// once per target. Nothing when the certificate has no targets.
std::vector<deployment_outcome> deploy_after_issuance(entity_runtime& runtime,
                                                      const std::string& certificate_id,
                                                      const std::string& version_id,
                                                      const std::string& correlation_id);

/// The same from the certificate's view as its issuance recorded it (issued_listener), without
/// reading the entity again: one command round trip less per issued certificate.
std::vector<deployment_outcome> deploy_after_issuance(entity_runtime& runtime,
                                                      const events::json_object& certificate,
                                                      const std::string& version_id,
                                                      const std::string& correlation_id);

}  // namespace certctl::actors
