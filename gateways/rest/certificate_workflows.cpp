#include "gateways/rest/certificate_workflows.hpp"

#include <algorithm>

#include "domain/rules.hpp"
#include "gateways/rest/command_support.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::gateways::rest {

namespace {

/// What makes the workflow's steps idempotent: the request's Idempotency-Key, else the id the
/// cluster gave the forwarded workflow command (a redelivery to a new owner then repeats
/// nothing); empty for a local request without a key, as before workflows.
std::string key_of(const domain::command& wf) {
  const std::string key = wf.body.str("idempotency_key");
  return key.empty() ? wf.command_id : key;
}

/// The issuance start of a workflow, from what its command carries.
actors::issuance_start start_of(const domain::command& wf, const std::string& cert_id) {
  actors::issuance_start st;
  st.certificate_id = cert_id;
  st.job_id = certificate_job_id(cert_id);
  st.principal = wf.principal;
  st.source_address = wf.source_address;
  st.correlation_id = wf.correlation_id;
  const std::string key = key_of(wf);
  if (!key.empty()) {
    st.renew_command_id = "certificate.renew:" + key;
    st.job_command_id = "job.create:" + key;
  }
  return st;
}

/// A command of the workflow's request, as command_for would have built it at the edge.
domain::command step(const domain::command& wf, const char* name, const std::string& id,
                     events::json_object body) {
  domain::command cmd;
  cmd.name = name;
  cmd.entity_id = id;
  cmd.body = std::move(body);
  cmd.principal = wf.principal;
  cmd.source_address = wf.source_address;
  cmd.correlation_id = wf.correlation_id;
  const std::string key = key_of(wf);
  if (!key.empty()) cmd.command_id = std::string(name) + ":" + key;
  return cmd;
}

actors::command_result run_create(write_context& ctx, const domain::command& wf) {
  const std::string id = wf.body.str("id");
  auto body = events::json_object::parse(wf.body.raw("certificate"));
  if (!body) return domain::domain_error{domain::domain_errc::invalid, "malformed workflow body"};
  auto created = ctx.runtime.execute("certificate", step(wf, "certificate.create", id, *body));
  if (!created) return created;
  auto started = actors::start_issuance(ctx.runtime, ctx.handoff, created->view, "Issuance",
                                        start_of(wf, created->view.str("id")));
  if (!started.ok()) return *started.job;
  // The job was committed after the certificate: answer its (later) position, so a client
  // that waits for it sees the job too (read-your-writes covers the whole request).
  created->position = std::max(created->position, started.last_position());
  return created;
}

actors::command_result run_renew(write_context& ctx, const domain::command& wf) {
  auto started = actors::start_renewal(ctx.runtime, ctx.handoff, start_of(wf, wf.body.str("id")));
  if (!started.ok())
    return started.certificate && !started.certificate->ok() ? *started.certificate : *started.job;
  actors::command_outcome out;
  out.position = started.last_position();
  return out;
}

}  // namespace

std::string certificate_job_id(const std::string& certificate_id) {
  return domain::affine_id("job-" + crypto::random_hex(8),
                           domain::stream_id("certificate", certificate_id));
}

void add_certificate_workflows(write_context& ctx) {
  ctx.runtime.add_workflow(create_workflow,
                           [&ctx](const domain::command& wf) { return run_create(ctx, wf); });
  ctx.runtime.add_workflow(renew_workflow,
                           [&ctx](const domain::command& wf) { return run_renew(ctx, wf); });
}

domain::command certificate_workflow_command(const http::request_context& c, const char* workflow,
                                             const std::string& id,
                                             const events::json_object& body) {
  events::json_object wf_body;
  wf_body.set("id", id).set_raw("certificate", body.dump());
  if (auto key = c.header("Idempotency-Key")) wf_body.set("idempotency_key", *key);
  domain::command cmd;
  cmd.name = workflow;
  cmd.entity_id = actors::workflow_entity_id(domain::stream_id("certificate", id));
  cmd.body = std::move(wf_body);
  cmd.principal = principal_of(c);
  cmd.source_address = c.remote_addr();
  cmd.correlation_id = c.request_id;
  return cmd;
}

}  // namespace certctl::gateways::rest
