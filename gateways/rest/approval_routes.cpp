#include "gateways/rest/approval_routes.hpp"

#include "actors/workflows/approval.hpp"
#include "domain/approval.hpp"
#include "gateways/rest/command_support.hpp"
#include "gateways/rest/query_support.hpp"
#include "projections/approval_projection.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

const char* const approval_states[] = {"pending", "approved", "rejected", "expired"};

actors::approval_context context_of(const http::request_context& c) {
  return {principal_of(c), c.remote_addr(), c.request_id};
}

/// The optional JSON body's string field `key` ("" when absent); a malformed body is a 400.
std::optional<std::string> optional_text(const http::request_context& c, const char* key,
                                         http::response& err) {
  if (c.body().empty()) return std::string();
  auto body = body_of(c, err);
  if (!body) return std::nullopt;
  if (body->has(key) && !body->is_string(key)) {
    err = http::error_response(400, std::string("field '") + key + "' must be a string");
    return std::nullopt;
  }
  return body->str(key);
}

actors::approval_outcome decide(approval_context& ctx, const http::request_context& c,
                                const std::string& approval_id, actors::approval_action action,
                                const std::string& note) {
  return actors::decide_approval(ctx.runtime, ctx.handoff, approval_id, action, note,
                                 context_of(c));
}

/// The position the client should wait for: the last command that wrote.
std::int64_t last_position(const actors::approval_outcome& out) {
  std::int64_t p = out.approval ? out.approval->position : 0;
  if (out.job && *out.job) p = std::max(p, (*out.job)->position);
  return p;
}

void add_decision_routes(http::router& r, approval_context& ctx) {
  for (const auto action : {actors::approval_action::approve, actors::approval_action::reject}) {
    const bool approving = action == actors::approval_action::approve;
    const std::string verb = approving ? "approve" : "reject";
    r.add("POST", "/api/v1/approvals/{id}/" + verb, role::operator_,
          [&ctx, action, approving](http::request_context& c) {
            http::response err;
            auto note = optional_text(c, "note", err);
            if (!note) return err;
            auto out = decide(ctx, c, c.path_param("id"), action, *note);
            if (!out.approval) return error_response(out.approval.error());
            events::json_object answer;
            answer.set("id", c.path_param("id"))
                .set("decided_by", out.approval->view.str("decided_by"))
                .set("action", approving ? "approved" : "rejected");
            if (out.job && !*out.job) answer.set("job_error", out.job->error().message);
            auto resp = http::json_response(answer.dump());
            resp.with_header("X-Certctl-Position", std::to_string(last_position(out)));
            return resp;
          });
    r.add("POST", "/api/v1/jobs/{id}/" + verb, role::operator_,
          [&ctx, action, approving](http::request_context& c) {
            http::response err;
            auto reason = optional_text(c, "reason", err);
            if (!reason) return err;
            const std::string job_id = c.path_param("id");
            auto out = decide(ctx, c, domain::approval_id_for_job(job_id), action, *reason);
            if (!out.approval) {
              if (out.approval.error().code == domain::domain_errc::not_found)
                return http::error_response(404, "job " + job_id + " has no approval request");
              return error_response(out.approval.error());
            }
            if (out.job && !*out.job) return error_response(out.job->error());
            events::json_object answer;
            answer.set("status", approving ? "approved" : "rejected");
            auto resp = http::json_response(answer.dump());
            resp.with_header("X-Certctl-Position", std::to_string(last_position(out)));
            return resp;
          });
  }
}

}  // namespace

void add_approval_routes(http::router& r, approval_context& ctx) {
  r.add("GET", "/api/v1/approvals", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    projections::approval_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.state = c.query("state").value_or("");
    f.certificate_id = c.query("certificate_id").value_or("");
    if (!f.state.empty() && std::find(std::begin(approval_states), std::end(approval_states),
                                      f.state) == std::end(approval_states))
      return http::error_response(400, "state must be pending, approved, rejected or expired");
    return page_or_error(projections::list_approvals(ctx.db, f));
  });
  r.add("GET", "/api/v1/approvals/{id}", role::viewer, [&ctx](http::request_context& c) {
    return doc_or_404(projections::get_approval(ctx.db, c.path_param("id")),
                      "approval request " + c.path_param("id"));
  });
  add_decision_routes(r, ctx);
}

}  // namespace certctl::gateways::rest
