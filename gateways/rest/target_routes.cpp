#include "gateways/rest/target_routes.hpp"

#include <algorithm>

#include "actors/workflows/deployment.hpp"
#include "events/json.hpp"
#include "gateways/rest/command_support.hpp"
#include "projections/entity_queries.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

events::json_object object_at(const events::json_object& doc, const char* key) {
  if (!doc.is_object(key)) return {};
  return events::json_object::parse(doc.raw(key)).value_or(events::json_object{});
}

actors::deployment_start who(const http::request_context& c) {
  actors::deployment_start s;
  s.principal = principal_of(c);
  s.source_address = c.remote_addr();
  s.correlation_id = c.request_id;
  return s;
}

void add_target_test(http::router& r, deployment_context& ctx) {
  // Changes nothing on the target: operators may run it, like the issuer test.
  r.add("POST", "/api/v1/targets/{id}/test", role::operator_, [&ctx](http::request_context& c) {
    const std::string id = c.path_param("id");
    auto out = actors::start_target_validation(ctx.runtime, id, who(c));
    if (out.job_id.empty()) {
      const bool missing = out.error.find("not found") != std::string::npos;
      return http::error_response(missing ? 404 : 500, out.error);
    }
    // The spec answers 200 with the outcome in the body. Validation runs on the target's
    // agent; its result arrives as the job's status.
    // "failed" when the agent cannot run it now (retired, unknown, offline: the spec's
    // connectivity answer); an offline agent's job still waits for it.
    events::json_object body;
    body.set("status", out.queued && out.error.empty() ? "pending" : "failed")
        .set("message", out.error.empty() ? "validation job " + out.job_id + " queued for the agent"
                                          : out.error)
        .set("job_id", out.job_id);
    auto resp = http::json_response(body.dump(), 200);
    if (out.position > 0) resp.with_header("X-Certctl-Position", std::to_string(out.position));
    return resp;
  });
}

void add_deploy(http::router& r, deployment_context& ctx) {
  r.add("POST", "/api/v1/certificates/{id}/deploy", role::operator_,
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          if (body->has("target_id") && !body->is_string("target_id"))
            return http::error_response(400, "field 'target_id' must be a string");
          auto cert = ctx.runtime.read("certificate", c.path_param("id"));
          if (!cert) return render(cert, 202);
          auto s = who(c);
          s.certificate_id = c.path_param("id");
          if (body->is_string("target_id")) {
            s.target_ids = {body->str("target_id")};
          } else {
            s.target_ids = cert->view.str_array("target_ids");
            if (s.target_ids.empty())
              return http::error_response(
                  400, "certificate " + s.certificate_id + " has no targets; name a target_id");
          }
          auto outcomes = actors::start_deployments(ctx.runtime, s);
          std::int64_t position = 0;
          std::vector<std::string> jobs, errors, warnings;
          for (const auto& o : outcomes) {
            position = std::max(position, o.position);
            if (o.queued) jobs.push_back(o.job_id);
            if (!o.error.empty())
              (o.queued ? warnings : errors).push_back(o.target_id + ": " + o.error);
          }
          if (jobs.empty()) {
            std::string msg = "no deployment was queued";
            for (const auto& e : errors) msg += "; " + e;
            auto resp = http::error_response(400, msg);
            if (position > 0) resp.with_header("X-Certctl-Position", std::to_string(position));
            return resp;
          }
          events::json_object out;
          out.set("status", "deployment_triggered").set("job_ids", jobs);
          if (!errors.empty()) out.set("errors", errors);
          if (!warnings.empty()) out.set("warnings", warnings);
          auto resp = http::json_response(out.dump(), 202);
          resp.with_header("X-Certctl-Position", std::to_string(position));
          return resp;
        });
}

void add_deployments(http::router& r, deployment_context& ctx) {
  r.add("GET", "/api/v1/certificates/{id}/deployments", role::viewer,
        [&ctx](http::request_context& c) {
          const std::string id = c.path_param("id");
          // Targets named by the certificate, then those its Deployment jobs went to.
          std::vector<std::string> ids;
          auto add = [&ids](const std::string& t) {
            if (!t.empty() && std::find(ids.begin(), ids.end(), t) == ids.end()) ids.push_back(t);
          };
          auto view = ctx.runtime.read("certificate", id);
          if (!view) return render(view, 200);
          for (const auto& t : view->view.str_array("target_ids")) add(t);
          projections::job_filter f;
          f.certificate_id = id;
          f.type = "Deployment";
          f.per_page = 500;
          auto jobs = projections::list_jobs(ctx.db, f);
          if (!jobs) return error_response(jobs.error());
          for (const auto& doc : jobs->data)
            add(events::json_object::parse(doc).value_or(events::json_object{}).str("target_id"));
          std::string data = "[";
          std::int64_t total = 0;
          for (const auto& t : ids) {
            auto doc = projections::get_resource(ctx.db, "target", t);
            if (!doc) return error_response(doc.error());
            if (!doc->has_value()) continue;  // deleted since
            data += (total++ ? "," : "") + connectors::redact_sealed_values(**doc);
          }
          data += "]";
          return http::json_response(R"({"data":)" + data + R"(,"total":)" + std::to_string(total) +
                                     "}");
        });
}

}  // namespace

void add_target_routes(http::router& r, deployment_context& ctx) {
  add_target_test(r, ctx);
  add_deploy(r, ctx);
  add_deployments(r, ctx);
}

resource_hook target_config_hook(const connectors::config_service& configs,
                                 actors::entity_runtime& runtime) {
  resource_hook h;
  h.before = [&configs, &runtime](const http::request_context&, const std::string& id,
                                  bool creating,
                                  events::json_object& body) -> std::optional<http::response> {
    // Shapes the domain checks (a missing or non-string field) are left to it: it names them.
    const bool has_type = body.has("type") && !body.is_null("type");
    const bool has_config = body.has("config") && !body.is_null("config");
    if ((has_type && !body.is_string("type")) || (has_config && !body.is_object("config")) ||
        (body.has("agent_id") && !body.is_null("agent_id") && !body.is_string("agent_id")))
      return std::nullopt;
    if (body.is_string("agent_id")) {
      const std::string agent = body.str("agent_id");
      if (agent.empty()) return http::error_response(400, "field 'agent_id' must not be empty");
      auto a = runtime.read("agent", agent);
      if (!a) {
        if (a.error().code == domain::domain_errc::not_found)
          return http::error_response(400, "agent_id: agent " + agent + " is not registered");
        return render(a, 200);
      }
      if (a->view.has("retired_at"))
        return http::error_response(400, "agent_id: agent " + agent + " is retired");
    }
    std::string type = body.str("type");
    events::json_object config = object_at(body, "config");
    events::json_object previous;
    if (!creating) {
      if (!has_type && !has_config) return std::nullopt;
      auto current = runtime.read("target", id);
      if (!current) return render(current, 200);  // fail closed: nothing to seal against
      if (!has_type) type = current->view.str("type");
      previous = object_at(current->view, "config");
      if (!has_config) config = previous;
    } else if (!has_type) {
      return std::nullopt;
    }
    auto stored = configs.prepare(connectors::connector_kind::target, type, id, config,
                                  creating ? nullptr : &previous);
    if (!stored) return http::error_response(400, stored.error().message);
    body.set_raw("config", stored->dump());
    return std::nullopt;
  };
  h.present = [&configs](events::json_object& view) {
    if (!view.is_object("config")) return;
    auto shown = configs.redact(connectors::connector_kind::target, view.str("type"),
                                object_at(view, "config"));
    view.set_raw("config", shown.dump());
  };
  return h;
}

}  // namespace certctl::gateways::rest
