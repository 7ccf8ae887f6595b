#pragma once
/// Runs one item of the agent's work (GET /api/v1/agents/{id}/work):
///
///   AwaitingCSR (Issuance/Renewal)  new key in the key dir -> CSR -> POST .../csr
///                                   (the key never leaves this host; a new key every time)
///   Deployment                      status Running -> target from the registry (type +
///                                   config) -> fetch certificate -> key from the key dir ->
///                                   validate -> deploy -> verify --mismatch/error--> rollback
///                                   -> status Completed | Failed with the target's message
///                                   and steps[] (each step's name, outcome, duration and a
///                                   redacted output excerpt: job.step_recorded events)
///   Validation (target test)        status Running -> validate -> Completed | Failed
///
/// Targets are built through the connector registry (connectors/registry.hpp, kind target),
/// the same registrations the server validates configs against.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "connectors/registry.hpp"
#include "events/json.hpp"
#include "tools/agent/key_dir.hpp"
#include "tools/agent/server_client.hpp"

namespace certctl::agent {

using log_fn = std::function<void(const std::string& level, const std::string& message)>;

/// How one item ended, as far as the loop cares.
enum class work_outcome {
  done,     ///< handled (including a job reported Failed)
  retry,    ///< the server did not answer: try again on the next poll
  retired,  ///< the server answered 410: this agent must stop
};

/// How much of a step's output goes to the server (the server keeps at most 1024 bytes).
inline constexpr size_t max_step_excerpt = 1024;

/// `text` as it may leave the agent: PEM private key blocks dropped, every secret (target
/// config values marked secret, 4 characters or more) replaced by "[redacted]".
std::string redact_secrets(std::string text, const std::vector<std::string>& secrets);
/// redact_secrets, cut to max_step_excerpt: a step's output excerpt.
std::string redact_output(const std::string& text, const std::vector<std::string>& secrets);

/// The steps of one job (validate, write, reload, verify, rollback, deploy), sent with its
/// final status report; the server records each as a job.step_recorded event.
class step_log {
 public:
  explicit step_log(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}
  void add(const std::string& name, bool ok, std::int64_t duration_ms, const std::string& output);
  bool empty() const { return steps_.empty(); }
  std::string json() const;  ///< a JSON array of step objects
  const std::vector<std::string>& secrets() const { return secrets_; }

 private:
  std::vector<std::string> secrets_;
  std::vector<std::string> steps_;  ///< each a JSON object
};

class work_runner {
 public:
  /// All references must outlive the runner.
  work_runner(server_client& server, key_dir& keys, const connectors::connector_registry& registry,
              std::string agent_id, log_fn log);

  work_outcome run(const events::json_object& item);

 private:
  work_outcome submit_csr(const events::json_object& item);
  work_outcome run_target_job(const events::json_object& item, bool deploy);
  /// Reports the job's status; retired on 410, retry when there is no answer.
  work_outcome report(const std::string& job_id, const std::string& status, const std::string& text,
                      const step_log* steps = nullptr);

  server_client& server_;
  key_dir& keys_;
  const connectors::connector_registry& registry_;
  std::string agent_id_;
  log_fn log_;
};

/// DNS names, IP addresses, emails and URIs sorted out of a work item's `sans` (the common
/// name joins the DNS names when no SAN is given).
crypto::subject_alt_names classify_sans(const std::string& common_name,
                                        const std::vector<std::string>& sans);

}  // namespace certctl::agent
