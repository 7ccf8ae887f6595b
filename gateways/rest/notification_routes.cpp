#include "gateways/rest/notification_routes.hpp"

#include "gateways/http/pagination.hpp"
#include "gateways/rest/command_support.hpp"
#include "projections/digest.hpp"
#include "projections/notification_projection.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

http::response status_json(const actors::command_result& r, const std::string& status) {
  if (!r) return error_response(r.error());
  events::json_object body;
  body.set("status", status);
  auto resp = http::json_response(body.dump());
  resp.with_header("X-Certctl-Position", std::to_string(r->position));
  return resp;
}

}  // namespace

void add_notification_routes(http::router& r, notification_context& ctx) {
  r.add("GET", "/api/v1/notifications", role::viewer, [&ctx](http::request_context& c) {
    auto p = http::parse_page_params(c.query_params());
    if (!p) return http::to_response(p.error());
    projections::notification_filter f;
    f.page = p->page;
    f.per_page = p->per_page;
    f.status = c.query("status");
    f.channel = c.query("channel");
    f.certificate_id = c.query("certificate_id");
    if (f.status && !f.status->empty() && *f.status != "pending" && *f.status != "sent" &&
        *f.status != "failed" && *f.status != "dead" && *f.status != "read")
      return http::error_response(
          400, "query parameter 'status' must be pending, sent, failed, dead or read");
    if (f.status && f.status->empty()) f.status.reset();
    auto page = projections::list_notifications(ctx.db, f);
    if (!page) return error_response(page.error());
    return http::json_response(projections::page_json(*page));
  });
  r.add("GET", "/api/v1/notifications/{id}", role::viewer, [&ctx](http::request_context& c) {
    auto doc = projections::get_notification(ctx.db, c.path_param("id"));
    if (!doc) return error_response(doc.error());
    if (!doc->has_value())
      return http::error_response(404, "notification " + c.path_param("id") + " not found");
    return http::json_response(**doc);
  });
  r.add("POST", "/api/v1/notifications/{id}/read", role::operator_,
        [&ctx](http::request_context& c) {
          return status_json(
              ctx.runtime.execute("notification",
                                  command_for(c, "notification.mark_read", c.path_param("id"), {})),
              "read");
        });
  r.add("POST", "/api/v1/notifications/{id}/requeue", role::operator_,
        [&ctx](http::request_context& c) {
          return status_json(
              ctx.runtime.execute("notification",
                                  command_for(c, "notification.requeue", c.path_param("id"), {})),
              "requeued");
        });

  r.add("GET", "/api/v1/digest/preview", role::viewer, [&ctx](http::request_context&) {
    auto d = projections::build_digest(ctx.db, ctx.clock.now());
    if (!d) return error_response(d.error(), "digest");
    http::response resp;
    resp.content_type = "text/html; charset=utf-8";
    resp.body = d->html;
    return resp;
  });
  r.add("POST", "/api/v1/digest/send", role::operator_, [&ctx](http::request_context&) {
    events::json_object body;
    if (ctx.digest == nullptr) {
      body.set("status", "unavailable")
          .set("message", "the digest needs the Email channel: set CERTCTL_SMTP_HOST");
      return http::json_response(body.dump(), 503);
    }
    auto sent = ctx.digest->send(ctx.clock.now());
    // The message names recipients and the SMTP server's answer, never a credential.
    if (!sent) return http::error_response(502, sent.error());
    body.set("status", "sent")
        .set("message", "digest sent to " + std::to_string(*sent) + " recipient(s)");
    return http::json_response(body.dump());
  });
}

}  // namespace certctl::gateways::rest
