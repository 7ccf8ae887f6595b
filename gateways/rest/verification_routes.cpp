#include "gateways/rest/verification_routes.hpp"

#include "gateways/rest/command_support.hpp"

namespace certctl::gateways::rest {
using http::role;

void add_verification_routes(http::router& r, verification_context& ctx) {
  r.add("POST", "/api/v1/jobs/{id}/verify", agent_operation(role::operator_),
        [&ctx](http::request_context& c) {
          http::response err;
          auto body = body_of(c, err);
          if (!body) return err;
          auto res = ctx.runtime.execute(
              "job", command_for(c, "job.record_verification", c.path_param("id"), *body));
          if (!res) return render(res, 200);
          const auto recorded = events::json_object::parse(res->view.raw("verification"))
                                    .value_or(events::json_object{});
          events::json_object answer;
          answer.set("job_id", c.path_param("id"))
              .set("verified", recorded.boolean("verified"))
              .set("verified_at", recorded.str("verified_at"));
          auto resp = http::json_response(answer.dump());
          resp.with_header("X-Certctl-Position", std::to_string(res->position));
          return resp;
        });
  r.add("GET", "/api/v1/jobs/{id}/verification", agent_operation(role::viewer),
        [&ctx](http::request_context& c) {
          auto job = ctx.runtime.read("job", c.path_param("id"));
          if (!job) return render(job, 200);
          if (!job->view.is_object("verification"))
            return http::error_response(
                404, "job " + c.path_param("id") + " has no verification recorded");
          return http::json_response(job->view.raw("verification"));
        });
}

}  // namespace certctl::gateways::rest
