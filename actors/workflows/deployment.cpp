#include "actors/workflows/deployment.hpp"

#include "domain/rules.hpp"

#include "infra/crypto/random.hpp"

namespace certctl::actors {
namespace {

domain::command make_command(const deployment_start& s, const char* name, const std::string& id,
                             events::json_object body, std::string command_id = "") {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = s.principal.empty() ? "system:deployment" : s.principal;
  c.source_address = s.source_address;
  c.correlation_id = s.correlation_id;
  c.command_id = std::move(command_id);
  return c;
}

/// Why the target's agent cannot take a job ("" when it can).
std::string agent_problem(entity_runtime& runtime, const std::string& agent_id) {
  if (agent_id.empty()) return "target has no agent";
  auto agent = runtime.read("agent", agent_id);
  if (!agent) {
    if (agent.error().code == domain::domain_errc::not_found)
      return "agent " + agent_id + " is not registered";
    return "agent " + agent_id + " could not be read: " + agent.error().message;
  }
  if (agent->view.has("retired_at")) return "agent " + agent_id + " is retired";
  return "";
}

/// One job of `type` for `target_id`.
deployment_outcome start_job(entity_runtime& runtime, const deployment_start& s,
                             const std::string& target_id, const char* type) {
  deployment_outcome out;
  out.target_id = target_id;
  auto target = runtime.read("target", target_id);
  if (!target) {
    out.error = target.error().code == domain::domain_errc::not_found
                    ? "target " + target_id + " not found"
                    : "target " + target_id + " could not be read: " + target.error().message;
    return out;
  }
  const std::string agent_id = target->view.str("agent_id");
  out.job_id =
      s.job_id_prefix.empty() ? "job-" + crypto::random_hex(8) : s.job_id_prefix + "-" + target_id;
  // A certificate's deployment jobs are placed with it (docs/cluster.md "Affinity").
  if (!s.certificate_id.empty())
    out.job_id = domain::affine_id(out.job_id, domain::stream_id("certificate", s.certificate_id));
  events::json_object job;
  job.set("type", type).set("target_id", target_id).set("agent_id", agent_id);
  if (!s.certificate_id.empty()) job.set("certificate_id", s.certificate_id);
  // A deployment is tried once: the agent rolls back a failed attempt, and retrying a broken
  // target blindly would only repeat the failure. An operator deploys again.
  job.set("max_attempts", std::int64_t{1});
  auto created = runtime.execute(
      "job", make_command(s, "job.create", out.job_id, job,
                          s.job_id_prefix.empty() ? "" : "job.create:" + out.job_id));
  if (!created) {
    out.error = "job " + out.job_id + ": " + created.error().message;
    return out;
  }
  out.position = created->position;
  if (created->duplicate) {
    out.queued = created->view.str("status") == "Pending";
    return out;
  }
  std::string problem = target->view.boolean("enabled", true)
                            ? agent_problem(runtime, agent_id)
                            : "target " + target_id + " is disabled";
  if (problem.empty()) {
    out.queued = true;
    // An offline agent may come back: the job waits for it, and the caller is told.
    auto agent = runtime.read("agent", agent_id);
    if (agent && agent->view.str("status") == "Offline")
      out.error = "agent " + agent_id + " is offline (last heartbeat " +
                  agent->view.str("last_heartbeat_at") + "); the job waits for it";
    return out;
  }
  // The job exists and fails at once, so the failure is on record where operators look.
  runtime.execute("job", make_command(s, "job.start", out.job_id, {}));
  events::json_object fail;
  fail.set("error", problem).set("retryable", false);
  auto failed = runtime.execute("job", make_command(s, "job.fail", out.job_id, fail));
  if (failed) out.position = failed->position;
  out.error = problem;
  return out;
}

}  // namespace

std::vector<deployment_outcome> start_deployments(entity_runtime& runtime,
                                                  const deployment_start& start) {
  std::vector<deployment_outcome> out;
  std::vector<std::string> targets = start.target_ids;
  if (targets.empty()) {
    auto cert = runtime.read("certificate", start.certificate_id);
    if (!cert) {
      deployment_outcome o;
      o.error = cert.error().message;
      out.push_back(o);
      return out;
    }
    targets = cert->view.str_array("target_ids");
  }
  for (const auto& t : targets) out.push_back(start_job(runtime, start, t, "Deployment"));
  return out;
}

deployment_outcome start_target_validation(entity_runtime& runtime, const std::string& target_id,
                                           const deployment_start& who) {
  deployment_start s = who;
  s.certificate_id.clear();
  return start_job(runtime, s, target_id, "Validation");
}

std::vector<deployment_outcome> deploy_after_issuance(entity_runtime& runtime,
                                                      const std::string& certificate_id,
                                                      const std::string& version_id,
                                                      const std::string& correlation_id) {
  deployment_start s;
  s.certificate_id = certificate_id;
  s.principal = "system:deployment";
  s.correlation_id = correlation_id;
  s.job_id_prefix = "job-dep-" + version_id;
  auto cert = runtime.read("certificate", certificate_id);
  if (!cert || cert->view.str_array("target_ids").empty()) return {};
  s.target_ids = cert->view.str_array("target_ids");
  return start_deployments(runtime, s);
}

}  // namespace certctl::actors
