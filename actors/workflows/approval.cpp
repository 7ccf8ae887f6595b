#include "actors/workflows/approval.hpp"

namespace certctl::actors {
namespace {

domain::command make_command(const approval_context& ctx, const char* name, const std::string& id,
                             events::json_object body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = ctx.principal;
  c.source_address = ctx.source_address;
  c.correlation_id = ctx.correlation_id;
  return c;
}

const char* decision_command(approval_action a) {
  switch (a) {
    case approval_action::approve:
      return "approval.approve";
    case approval_action::reject:
      return "approval.reject";
    case approval_action::expire:
      return "approval.expire";
  }
  return "";
}

}  // namespace

approval_outcome decide_approval(entity_runtime& runtime, const issuance_handoff& handoff,
                                 const std::string& approval_id, approval_action action,
                                 const std::string& note, const approval_context& ctx) {
  events::json_object body;
  if (!note.empty()) body.set("note", note);
  approval_outcome out{
      runtime.execute("approval", make_command(ctx, decision_command(action), approval_id, body)),
      std::nullopt, false};
  if (!out.approval) return out;
  const auto& request = out.approval->view;
  const std::string job_id = request.str("job_id");
  const std::string certificate_id = request.str("certificate_id");

  if (action == approval_action::approve) {
    out.job = runtime.execute("job", make_command(ctx, "job.approve", job_id, body));
    if (!*out.job || !handoff || out.job->value().view.str("status") != "Pending") return out;
    auto certificate = runtime.read("certificate", certificate_id);
    if (!certificate) return out;  // the job stays Pending; the job processor hands it off
    // The issuance is the requester's: its events name them, the approval names the approver.
    handoff({certificate_id, job_id, certificate->view, "", ctx.correlation_id,
             request.str("requested_by")});
    out.handed_off = true;
    return out;
  }
  events::json_object close;
  close.set("reason", action == approval_action::reject
                          ? (note.empty() ? std::string("approval rejected") : note)
                          : std::string("approval request expired"));
  out.job = runtime.execute(
      "job", make_command(ctx, action == approval_action::reject ? "job.reject" : "job.cancel",
                          job_id, close));
  if (!*out.job) return out;
  events::json_object failure;
  failure.set("job_id", job_id)
      .set("error", out.job->value().view.str("last_error", "approval request expired"));
  runtime.execute("certificate",
                  make_command(ctx, "certificate.record_failure", certificate_id, failure));
  return out;
}

}  // namespace certctl::actors
