#include "gateways/rest/agent_job_routes.hpp"

#include <algorithm>

#include "actors/workflows/discovery.hpp"
#include "domain/job.hpp"
#include "events/json.hpp"
#include "gateways/rest/command_support.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {

namespace {

events::json_object object_at(const events::json_object& doc, const char* key) {
  if (!doc.is_object(key)) return {};
  return events::json_object::parse(doc.raw(key)).value_or(events::json_object{});
}

/// 404 for an unknown agent, 410 for a retired one, nullopt when it may work.
std::optional<http::response> agent_refusal(deployment_context& ctx, const std::string& id) {
  auto agent = ctx.runtime.read("agent", id);
  if (!agent) return render(agent, 200);
  if (agent->view.has("retired_at"))
    return http::error_response(410, "agent " + id + " is retired");
  return std::nullopt;
}

/// The key an agent should make for `certificate_id`: what its profile allows, ECDSA first
/// (P-256 unless the profile's minimum is higher), else RSA of the minimum size. Empty when
/// the certificate has no profile or the profile names neither.
std::string key_algorithm_for(deployment_context& ctx, const std::string& certificate_id) {
  auto cert = ctx.runtime.read("certificate", certificate_id);
  if (!cert || cert->view.str("certificate_profile_id").empty()) return "";
  auto profile = ctx.runtime.read("profile", cert->view.str("certificate_profile_id"));
  if (!profile || !profile->view.is_array("allowed_key_algorithms")) return "";
  std::int64_t ec = -1, rsa = -1;
  for (const auto& a : profile->view.object_array("allowed_key_algorithms")) {
    const std::string alg = a.str("algorithm");
    if (alg == "ECDSA" && ec < 0) ec = a.int64("min_size", 256);
    if (alg == "RSA" && rsa < 0) rsa = a.int64("min_size", 2048);
  }
  if (ec >= 0 && ec <= 384) return ec <= 256 ? "ECDSA-P256" : "ECDSA-P384";
  if (rsa >= 0 && rsa <= 4096)
    return rsa <= 2048 ? "RSA-2048" : rsa <= 3072 ? "RSA-3072" : "RSA-4096";
  return "";
}

void add_work(http::router& r, deployment_context& ctx) {
  r.add("GET", "/api/v1/agents/{id}/work", agent_operation(), [&ctx](http::request_context& c) {
    const std::string agent = c.path_param("id");
    if (auto refused = agent_refusal(ctx, agent)) return *refused;
    auto work = projections::list_agent_work(ctx.db, agent);
    if (!work) return error_response(work.error());
    // The read model trails the entities: a job cancelled, timed out or taken by another
    // agent's CSR a moment ago must not go out as work.
    work->erase(std::remove_if(work->begin(), work->end(),
                               [&ctx](const projections::work_item& item) {
                                 auto job = ctx.runtime.read("job", item.job_id);
                                 return job && job->view.str("status") != item.status;
                               }),
                work->end());
    for (auto& item : *work) {
      if (item.status == "AwaitingCSR")
        item.key_algorithm = key_algorithm_for(ctx, item.certificate_id);
      if (item.target_id.empty() || (item.type != "Deployment" && item.type != "Validation"))
        continue;
      // The entity, not the read model: a target edited a moment ago is sent as it is now.
      auto target = ctx.runtime.read("target", item.target_id);
      if (!target) continue;  // deleted: the agent reports the job failed (no target type)
      item.target_type = target->view.str("type");
      auto opened = ctx.configs.open(connectors::connector_kind::target, item.target_type,
                                     item.target_id, object_at(target->view, "config"));
      // A config that no longer opens (type unregistered, master key changed) goes out empty;
      // the agent's schema check then fails the job with the reason.
      item.target_config_json = opened ? opened->dump() : "{}";
    }
    return http::json_response(projections::agent_work_json(*work));
  });
}

/// A step's output as it may be stored: a private key block never, whatever the agent sent
/// (the agent redacts too; this is the server's own guard).
std::string guarded_output(std::string output) {
  const auto key = output.find("PRIVATE KEY");
  if (key != std::string::npos) {
    const auto begin = output.rfind("-----BEGIN", key);
    output = output.substr(0, begin == std::string::npos ? key : begin) + "[private key redacted]";
  }
  return output.substr(0, domain::max_step_output);
}

domain::command job_command(const http::request_context& c, const char* name,
                            const std::string& job, events::json_object body) {
  auto cmd = command_for(c, name, job, std::move(body));
  cmd.principal = "agent:" + c.path_param("id");
  return cmd;
}

void add_job_status(http::router& r, deployment_context& ctx) {
  r.add(
      "POST", "/api/v1/agents/{id}/jobs/{job_id}/status", agent_operation(),
      [&ctx](http::request_context& c) {
        http::response err;
        auto body = body_of(c, err);
        if (!body) return err;
        if (!body->is_string("status"))
          return http::error_response(400, "field 'status' is required");
        for (const char* f : {"error", "message"})
          if (body->has(f) && !body->is_null(f) && !body->is_string(f))
            return http::error_response(400, std::string("field '") + f + "' must be a string");
        // Steps ride along with any status (docs/agent.md): each becomes a job.step_recorded.
        std::vector<events::json_object> steps;
        if (body->has("steps") && !body->is_null("steps")) {
          if (!body->is_array("steps"))
            return http::error_response(400, "field 'steps' must be an array of objects");
          steps = body->object_array("steps");
          if (steps.size() > static_cast<size_t>(domain::max_job_steps))
            return http::error_response(
                400, "at most " + std::to_string(domain::max_job_steps) + " steps per report");
          for (const auto& st : steps)
            if (!st.is_string("step") || !st.is_string("outcome"))
              return http::error_response(400, "each step needs the strings 'step' and 'outcome'");
        }
        const std::string agent = c.path_param("id"), job_id = c.path_param("job_id");
        const std::string wanted = body->str("status");
        if (wanted != "Running" && wanted != "Completed" && wanted != "Failed")
          return http::error_response(400, "field 'status' must be Running, Completed or Failed");
        if (auto refused = agent_refusal(ctx, agent)) return *refused;
        auto job = ctx.runtime.read("job", job_id);
        if (!job) return render(job, 200);
        if (job->view.str("agent_id") != agent)
          return http::error_response(403, "job " + job_id + " is not assigned to agent " + agent);
        const std::string type = job->view.str("type");
        if (type != "Deployment" && type != "Validation")
          return http::error_response(
              409, "job " + job_id + " is a " + type + " job; agents report only deployments");
        std::string status = job->view.str("status");
        if (status == "Completed" || status == "Failed" || status == "Cancelled") {
          // A late report (after the deployment timeout, or a retry of one already counted)
          // changes nothing: the job's outcome is on record.
          const std::string why = job->view.str("last_error");
          return http::error_response(409, "job " + job_id + " is already " + status +
                                               (why.empty() ? "" : " (" + why + ")") +
                                               "; this report is refused and changes nothing");
        }
        actors::command_result last = job;
        if (status == "Pending") {
          last = ctx.runtime.execute("job", job_command(c, "job.start", job_id, {}));
          if (!last) return render(last, 200);
          status = "Running";
        }
        for (const auto& st : steps) {
          events::json_object b;
          b.set("step", st.str("step"))
              .set("outcome", st.str("outcome"))
              .set("duration_ms", st.int64("duration_ms"))
              .set("output", guarded_output(st.str("output")));
          if (st.is_string("started_at")) b.set("started_at", st.str("started_at"));
          last = ctx.runtime.execute("job", job_command(c, "job.record_step", job_id, b));
          if (!last) return render(last, 200);
        }
        if (wanted == "Running") {
          if (status != "Running")
            return http::error_response(409, "job " + job_id + " is " + status);
        } else if (wanted == "Completed") {
          events::json_object b;
          if (body->is_string("message")) b.set("message", body->str("message"));
          last = ctx.runtime.execute("job", job_command(c, "job.complete", job_id, b));
        } else {
          events::json_object b;
          std::string why = body->str("error");
          if (why.empty()) why = body->str("message", "the agent reported a failure");
          b.set("error", why).set("retryable", false);
          last = ctx.runtime.execute("job", job_command(c, "job.fail", job_id, b));
        }
        if (!last) return render(last, 200);
        events::json_object out;
        out.set("status", last->view.str("status"));
        auto resp = http::json_response(out.dump(), 200);
        if (last->position > 0)
          resp.with_header("X-Certctl-Position", std::to_string(last->position));
        return resp;
      });
}

void add_discoveries(http::router& r, deployment_context& ctx) {
  r.add("POST", "/api/v1/agents/{id}/discoveries", agent_operation(),
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          const std::string agent = c.path_param("id");
          if (body->is_string("agent_id") && body->str("agent_id") != agent)
            return http::error_response(400, "field 'agent_id' does not match the path");
          if (body->has("directories") && !body->is_string_array("directories"))
            return http::error_response(400, "field 'directories' must be an array of strings");
          if (!body->is_array("certificates"))
            return http::error_response(400, "field 'certificates' must be an array");
          if (body->has("errors") && !body->is_string_array("errors"))
            return http::error_response(400, "field 'errors' must be an array of strings");
          if (body->has("scan_duration_ms") && !body->is_int("scan_duration_ms"))
            return http::error_response(400, "field 'scan_duration_ms' must be an integer");
          if (auto refused = agent_refusal(ctx, agent)) return *refused;
          actors::discovery_report report;
          report.source = "agent";
          report.source_id = agent;
          report.directories = body->str_array("directories");
          report.errors = body->str_array("errors");
          report.scan_duration_ms = body->int64("scan_duration_ms");
          report.principal = "agent:" + agent;
          report.source_address = c.remote_addr();
          report.correlation_id = c.request_id;
          const auto items = body->object_array("certificates");
          if (items.size() > actors::max_discovery_items)
            return http::error_response(400, "a report holds at most " +
                                                 std::to_string(actors::max_discovery_items) +
                                                 " certificates");
          for (const auto& i : items) {
            // The server parses each certificate itself; what the agent says about it (CN,
            // fingerprint, dates) is not trusted.
            if (!i.is_string("pem_data") || !i.is_string("source_path"))
              return http::error_response(
                  400, "each certificate needs the strings 'pem_data' and 'source_path'");
            report.items.push_back(
                {i.str("source_path"), i.str("source_format", "PEM"), i.str("pem_data"), {}});
          }
          auto result = actors::record_discovery(ctx.runtime, report);
          if (!result.ok) return http::error_response(500, result.error);
          auto resp = http::json_response(result.scan.dump(), 202);
          resp.with_header("X-Certctl-Position", std::to_string(result.position));
          return resp;
        });
}

}  // namespace

void add_agent_job_routes(http::router& r, deployment_context& ctx) {
  add_work(r, ctx);
  add_job_status(r, ctx);
  add_discoveries(r, ctx);
}

}  // namespace certctl::gateways::rest
