#include "actors/workflows/renewal.hpp"

#include <algorithm>

#include "domain/approval.hpp"

namespace certctl::actors {
namespace {

domain::command make_command(const issuance_start& s, const char* name, const std::string& id,
                             events::json_object body, const std::string& command_id) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = std::move(body);
  c.principal = s.principal;
  c.source_address = s.source_address;
  c.correlation_id = s.correlation_id;
  c.command_id = command_id;
  return c;
}

/// Does the certificate's profile want a second person to approve its issuance?
bool requires_approval(entity_runtime& runtime, const events::json_object& certificate) {
  const std::string profile_id = certificate.str("certificate_profile_id");
  if (profile_id.empty()) return false;
  auto profile = runtime.read("profile", profile_id);
  return profile && profile->view.boolean("requires_approval");
}

}  // namespace

issuance_started start_issuance(entity_runtime& runtime, const issuance_handoff& handoff,
                                const events::json_object& certificate, const std::string& type,
                                const issuance_start& start) {
  issuance_started out;
  const bool server_keygen = static_cast<bool>(handoff);
  out.awaiting_approval = requires_approval(runtime, certificate);
  events::json_object job;
  job.set("type", type)
      .set("certificate_id", start.certificate_id)
      .set("awaiting_csr", !server_keygen)
      .set("awaiting_approval", out.awaiting_approval);
  if (start.max_attempts > 0) job.set("max_attempts", start.max_attempts);
  if (!server_keygen && !out.awaiting_approval && !start.csr_pem.empty())
    job.set("csr_pem", start.csr_pem);
  out.job = runtime.execute(
      "job", make_command(start, "job.create", start.job_id, std::move(job), start.job_command_id));
  if (out.job->ok() && out.awaiting_approval) {
    // The request a second person decides on; actors/workflows/approval.hpp releases the job.
    events::json_object request;
    request.set("certificate_id", start.certificate_id)
        .set("job_id", start.job_id)
        .set("requested_by", start.principal.empty() ? "system" : start.principal)
        .set("profile_id", certificate.str("certificate_profile_id"));
    events::json_object metadata;
    metadata.set("common_name", certificate.str("common_name"))
        .set("issuer_id", certificate.str("issuer_id"))
        .set("job_type", type);
    request.set_raw("metadata", metadata.dump());
    const std::string id = domain::approval_id_for_job(start.job_id);
    out.approval =
        runtime.execute("approval", make_command(start, "approval.create", id, std::move(request),
                                                 "approval.create:" + start.job_id));
    return out;
  }
  // A duplicate means an earlier call created the job and handed it off already; handing it
  // off again would only race the first task for job.start.
  if (!out.job->ok() || (*out.job)->duplicate || !server_keygen) return out;
  handoff(
      {start.certificate_id, start.job_id, certificate, "", start.correlation_id, start.principal});
  out.handed_off = true;
  return out;
}

std::int64_t issuance_started::last_position() const {
  std::int64_t p = 0;
  for (const auto* r : {certificate ? &*certificate : nullptr, job ? &*job : nullptr,
                        approval ? &*approval : nullptr})
    if (r != nullptr && r->ok()) p = std::max(p, (*r)->position);
  return p;
}

issuance_started start_renewal(entity_runtime& runtime, const issuance_handoff& handoff,
                               const issuance_start& start) {
  events::json_object body;
  body.set("job_id", start.job_id);
  auto renewing =
      runtime.execute("certificate", make_command(start, "certificate.renew", start.certificate_id,
                                                  std::move(body), start.renew_command_id));
  if (!renewing) {
    issuance_started out;
    out.certificate = std::move(renewing);
    return out;
  }
  // Continue after a duplicate renew too: if the earlier caller stopped between the two
  // commands, this creates the missing job; if not, job.create is a duplicate as well.
  auto out = start_issuance(runtime, handoff, renewing->view, "Renewal", start);
  out.certificate = std::move(renewing);
  return out;
}

}  // namespace certctl::actors
