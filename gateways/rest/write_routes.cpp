#include "gateways/rest/write_routes.hpp"

#include <algorithm>

#include "gateways/rest/certificate_workflows.hpp"
#include "gateways/rest/command_support.hpp"
#include "gateways/rest/scope_check.hpp"

#include "actors/workflows/policy_engine.hpp"

#include "domain/rules.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

struct resource_route {
  const char* path;    ///< e.g. "/api/v1/teams"
  const char* kind;    ///< entity kind
  const char* prefix;  ///< id prefix for new entities
  role writer;
};

const resource_route resource_routes[] = {
    {"/api/v1/issuers", "issuer", "iss", role::admin},
    {"/api/v1/profiles", "profile", "prof", role::admin},
    {"/api/v1/renewal-policies", "renewal_policy", "rp", role::admin},
    {"/api/v1/teams", "team", "team", role::operator_},
    {"/api/v1/owners", "owner", "owner", role::operator_},
    {"/api/v1/policies", "policy", "pol", role::admin},
    {"/api/v1/agent-groups", "agent_group", "ag", role::admin},
    {"/api/v1/network-scan-targets", "network_scan_target", "nst", role::admin},
    {"/api/v1/targets", "target", "tgt", role::admin},  // configs hold credentials
};

/// The client's id when it gave a valid one, else a new one this node owns in a cluster (so the
/// create runs here instead of being forwarded to a random owner).
std::string new_id(const write_context& ctx, const events::json_object& body,
                   const std::string& kind, const char* prefix) {
  if (body.is_string("id") && domain::is_valid_id(body.str("id"))) return body.str("id");
  return ctx.runtime.mint_local_id(
      kind, [prefix] { return std::string(prefix) + "-" + crypto::random_hex(8); });
}

const resource_hook* hook_of(const write_context& ctx, const std::string& kind) {
  auto it = ctx.hooks.find(kind);
  return it == ctx.hooks.end() ? nullptr : &it->second;
}

/// render(), after the kind's hook has seen the view (e.g. redacted its secrets).
http::response render_shown(const resource_hook* hook, actors::command_result res, int status) {
  if (res && hook != nullptr && hook->present) hook->present(res->view);
  return render(res, status);
}

void add_resource_routes(http::router& r, write_context& ctx) {
  for (const auto& rr : resource_routes) {
    const std::string kind = rr.kind;
    const std::string prefix = rr.prefix;
    r.add("POST", rr.path, rr.writer, [&ctx, kind, prefix](http::request_context& c) {
      http::response err;
      auto body = body_of(c, err);
      if (!body) return err;
      const std::string id = new_id(ctx, *body, kind, prefix.c_str());
      const resource_hook* hook = hook_of(ctx, kind);
      if (hook != nullptr && hook->before)
        if (auto answer = hook->before(c, id, true, *body)) return *answer;
      return render_shown(
          hook, ctx.runtime.execute(kind, command_for(c, kind + ".create", id, *body)), 201);
    });
    r.add("PUT", std::string(rr.path) + "/{id}", rr.writer, [&ctx, kind](http::request_context& c) {
      http::response err;
      auto body = body_of(c, err);
      if (!body) return err;
      const resource_hook* hook = hook_of(ctx, kind);
      if (hook != nullptr && hook->before)
        if (auto answer = hook->before(c, c.path_param("id"), false, *body)) return *answer;
      return render_shown(
          hook,
          ctx.runtime.execute(kind, command_for(c, kind + ".update", c.path_param("id"), *body)),
          200);
    });
    r.add("DELETE", std::string(rr.path) + "/{id}", rr.writer,
          [&ctx, kind](http::request_context& c) {
            auto res =
                ctx.runtime.execute(kind, command_for(c, kind + ".delete", c.path_param("id"), {}));
            if (!res) return render(res, 204);
            http::response resp;
            resp.status = 204;
            resp.content_type.clear();
            if (res->position > 0)
              resp.with_header("X-Certctl-Position", std::to_string(res->position));
            return resp;
          });
  }
}

void add_certificate_routes(http::router& r, write_context& ctx) {
  r.add("POST", "/api/v1/certificates", role::operator_, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    const std::string id = new_id(ctx, *body, "certificate", "mc");
    if (auto denied = outside_scope(c, *body)) return *denied;
    // Governance first: a certificate a blocking rule forbids is never created.
    if (ctx.policies != nullptr)
      if (auto refused = ctx.policies->check(id, *body, principal_of(c)))
        return http::error_response(400, *refused);
    // One workflow command: certificate, job and issuance run on the certificate's owner.
    auto created = ctx.runtime.execute(std::string(actors::workflow_kind),
                                       certificate_workflow_command(c, create_workflow, id, *body));
    return render(created, 201);
  });
  r.add("PUT", "/api/v1/certificates/{id}", role::operator_, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    if (c.who.scope) {  // a scoped key may neither touch nor move a certificate out of scope
      if (auto current = ctx.runtime.read("certificate", c.path_param("id"))) {
        auto moved = current->view;
        moved.merge(*body);
        if (auto denied = outside_scope(c, current->view)) return *denied;
        if (auto denied = outside_scope(c, moved)) return *denied;
      }
    }
    return render(ctx.runtime.execute("certificate", command_for(c, "certificate.update",
                                                                 c.path_param("id"), *body)),
                  200);
  });
  r.add("DELETE", "/api/v1/certificates/{id}", role::operator_, [&ctx](http::request_context& c) {
    if (auto denied = certificate_outside_scope(ctx.runtime, c, c.path_param("id"))) return *denied;
    auto res = ctx.runtime.execute("certificate",
                                   command_for(c, "certificate.archive", c.path_param("id"), {}));
    if (!res) return render(res, 204);
    http::response resp;
    resp.status = 204;
    resp.content_type.clear();
    return resp;
  });
  r.add("POST", "/api/v1/certificates/{id}/renew", role::operator_,
        [&ctx](http::request_context& c) {
          if (auto denied = certificate_outside_scope(ctx.runtime, c, c.path_param("id")))
            return *denied;
          auto started = ctx.runtime.execute(
              std::string(actors::workflow_kind),
              certificate_workflow_command(c, renew_workflow, c.path_param("id"), {}));
          if (!started) return render(started, 202);
          auto resp = http::json_response(R"({"status":"renewal_triggered"})", 202);
          resp.with_header("X-Certctl-Position", std::to_string(started->position));
          return resp;
        });
  r.add("POST", "/api/v1/certificates/{id}/revoke", role::operator_,
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          if (auto denied = certificate_outside_scope(ctx.runtime, c, c.path_param("id")))
            return *denied;
          auto res = ctx.runtime.execute(
              "certificate", command_for(c, "certificate.revoke", c.path_param("id"), *body));
          if (!res) return render(res, 200);
          if (ctx.after_revoke) ctx.after_revoke(c.path_param("id"), c.request_id);
          auto resp = http::json_response(R"({"status":"revoked"})", 200);
          resp.with_header("X-Certctl-Position", std::to_string(res->position));
          return resp;
        });
  r.add("POST", "/api/v1/jobs/{id}/cancel", role::operator_, [&ctx](http::request_context& c) {
    auto res = ctx.runtime.execute("job", command_for(c, "job.cancel", c.path_param("id"), {}));
    // A pending CA order is withdrawn on an issuance worker, not here; the outcome lands on
    // the job as job.order_cancelled.
    if (res && res->view.str("order_state") == "pending")
      ctx.issuance.cancel_order(c.path_param("id"), res->view.str("certificate_id"), c.request_id,
                                command_for(c, "job.cancel", c.path_param("id"), {}).principal);
    return render(res, 200);
  });
}

void add_agent_routes(http::router& r, write_context& ctx) {
  r.add("POST", "/api/v1/agents", role::operator_, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    return render(
        ctx.runtime.execute(
            "agent", command_for(c, "agent.register", new_id(ctx, *body, "agent", "agent"), *body)),
        201);
  });
  r.add("POST", "/api/v1/agents/{id}/heartbeat", agent_operation(),
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          auto res = ctx.runtime.execute(
              "agent", command_for(c, "agent.heartbeat", c.path_param("id"), *body));
          // A retired agent gets 410 Gone, the signal for certctl-agent to stop for good.
          if (!res && res.error().code == domain::domain_errc::conflict) {
            auto agent = ctx.runtime.read("agent", c.path_param("id"));
            if (agent && agent->view.has("retired_at"))
              return http::error_response(410, "agent " + c.path_param("id") + " is retired");
          }
          return render(res, 200);
        });
  r.add("DELETE", "/api/v1/agents/{id}", role::admin, [&ctx](http::request_context& c) {
    events::json_object body;
    if (auto reason = c.query("reason")) body.set("reason", *reason);
    return render(
        ctx.runtime.execute("agent", command_for(c, "agent.retire", c.path_param("id"), body)),
        200);
  });
  // An agent submits the CSR for a job that awaits one; signing happens on the issuance workers.
  r.add("POST", "/api/v1/agents/{id}/csr", agent_operation(), [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    for (const char* f : {"job_id", "certificate_id", "csr_pem"})
      if (!body->is_string(f))
        return http::error_response(400, std::string("field '") + f + "' is required");
    events::json_object csr;
    csr.set("csr_pem", body->str("csr_pem"));
    auto accepted =
        ctx.runtime.execute("job", command_for(c, "job.submit_csr", body->str("job_id"), csr));
    if (!accepted) return render(accepted, 202);
    auto cert = ctx.runtime.read("certificate", body->str("certificate_id"));
    if (!cert) return render(cert, 202);
    ctx.issuance.enqueue({body->str("certificate_id"), body->str("job_id"), cert->view,
                          body->str("csr_pem"), c.request_id, "agent:" + c.path_param("id")});
    auto resp = http::json_response(R"({"status":"accepted"})", 202);
    resp.with_header("X-Certctl-Position", std::to_string(accepted->position));
    return resp;
  });
}

}  // namespace

void add_write_routes(http::router& r, write_context& ctx) {
  add_certificate_workflows(ctx);
  add_resource_routes(r, ctx);
  add_certificate_routes(r, ctx);
  add_agent_routes(r, ctx);
}

}  // namespace certctl::gateways::rest
