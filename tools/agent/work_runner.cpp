#include "tools/agent/work_runner.hpp"

#include <arpa/inet.h>

#include <chrono>

#include "connectors/config_schema.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::agent {

namespace {

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

events::json_object object_at(const events::json_object& doc, const char* key) {
  if (!doc.is_object(key)) return {};
  return events::json_object::parse(doc.raw(key)).value_or(events::json_object{});
}

}  // namespace

crypto::subject_alt_names classify_sans(const std::string& common_name,
                                        const std::vector<std::string>& sans) {
  crypto::subject_alt_names out;
  for (const auto& s : sans) {
    if (s.empty()) continue;
    if (is_ip(s))
      out.ip.push_back(s);
    else if (s.find("://") != std::string::npos)
      out.uri.push_back(s);
    else if (s.find('@') != std::string::npos)
      out.email.push_back(s);
    else
      out.dns.push_back(s);
  }
  if (out.empty() && !common_name.empty()) {
    if (is_ip(common_name))
      out.ip.push_back(common_name);
    else
      out.dns.push_back(common_name);
  }
  return out;
}

work_runner::work_runner(server_client& server, key_dir& keys,
                         const connectors::connector_registry& registry, std::string agent_id,
                         log_fn log)
    : server_(server),
      keys_(keys),
      registry_(registry),
      agent_id_(std::move(agent_id)),
      log_(std::move(log)) {}

work_outcome work_runner::run(const events::json_object& item) {
  const std::string type = item.str("type"), status = item.str("status");
  if (status == "AwaitingCSR") return submit_csr(item);
  if (type == "Deployment" && status == "Pending") return run_target_job(item, true);
  if (type == "Validation" && status == "Pending") return run_target_job(item, false);
  log_("warn", "ignoring work item " + item.str("id") + " (" + type + ", " + status + ")");
  return work_outcome::done;
}

work_outcome work_runner::submit_csr(const events::json_object& item) {
  const std::string job = item.str("id"), cert = item.str("certificate_id");
  crypto::key_type type = crypto::key_type::ecdsa_p256;
  if (item.is_string("key_algorithm")) {
    auto t = crypto::parse_key_type(item.str("key_algorithm"));
    if (!t) {
      log_("error", "job " + job + ": unknown key algorithm " + item.str("key_algorithm"));
      return work_outcome::done;
    }
    type = *t;
  }
  const std::string cn = item.str("common_name");
  auto made = keys_.new_key(cert, type, cn, classify_sans(cn, item.str_array("sans")));
  if (!made) {
    log_("error", "job " + job + ": " + made.error());
    return work_outcome::done;
  }
  events::json_object body;
  body.set("job_id", job).set("certificate_id", cert).set("csr_pem", made->csr_pem);
  auto r = server_.post("/api/v1/agents/" + agent_id_ + "/csr", body.dump());
  if (!r) {
    log_("warn", "job " + job + ": CSR not delivered: " + r.error());
    return work_outcome::retry;
  }
  if (r->status == 410) return work_outcome::retired;
  if (r->status != 202) {
    log_("warn", "job " + job + ": CSR refused (" + std::to_string(r->status) + "): " + r->body);
    return work_outcome::done;
  }
  log_("info", "job " + job + ": key generated locally (" + std::string(crypto::to_string(type)) +
                   "), CSR submitted for " + cert);
  return work_outcome::done;
}

std::string redact_secrets(std::string text, const std::vector<std::string>& secrets) {
  // A private key block never leaves: everything from its BEGIN line on is dropped.
  if (auto key = text.find("PRIVATE KEY"); key != std::string::npos) {
    const auto begin = text.rfind("-----BEGIN", key);
    text = text.substr(0, begin == std::string::npos ? key : begin) + "[private key redacted]";
  }
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;  // too short to tell apart from ordinary words
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

std::string redact_output(const std::string& text, const std::vector<std::string>& secrets) {
  std::string out = redact_secrets(text, secrets);
  if (out.size() > max_step_excerpt) out = out.substr(0, max_step_excerpt - 3) + "...";
  return out;
}

void step_log::add(const std::string& name, bool ok, std::int64_t duration_ms,
                   const std::string& output) {
  events::json_object st;
  st.set("step", name)
      .set("outcome", ok ? "succeeded" : "failed")
      .set("duration_ms", duration_ms)
      .set("output", redact_output(output, secrets_));
  steps_.push_back(st.dump());
}

std::string step_log::json() const {
  std::string out = "[";
  for (size_t i = 0; i < steps_.size(); ++i) out += (i ? "," : "") + steps_[i];
  return out + "]";
}

work_outcome work_runner::report(const std::string& job_id, const std::string& status,
                                 const std::string& text, const step_log* steps) {
  events::json_object body;
  body.set("status", status);
  // The job's message is shown as widely as its steps: the target's secrets are out of both.
  const std::string shown = steps != nullptr ? redact_secrets(text, steps->secrets()) : text;
  if (!shown.empty()) body.set(status == "Failed" ? "error" : "message", shown);
  if (steps != nullptr && !steps->empty()) body.set_raw("steps", steps->json());
  auto r = server_.post("/api/v1/agents/" + agent_id_ + "/jobs/" + job_id + "/status", body.dump());
  if (!r) {
    log_("warn", "job " + job_id + ": status " + status + " not delivered: " + r.error());
    return work_outcome::retry;
  }
  if (r->status == 410) return work_outcome::retired;
  if (r->status != 200) {
    log_("warn", "job " + job_id + ": status " + status + " refused (" + std::to_string(r->status) +
                     "): " + r->body);
    return work_outcome::retry;
  }
  log_(status == "Failed" ? "warn" : "info",
       "job " + job_id + ": " + status + (shown.empty() ? "" : ": " + shown));
  return work_outcome::done;
}

work_outcome work_runner::run_target_job(const events::json_object& item, bool deploy) {
  const std::string job = item.str("id"), target_id = item.str("target_id");
  const std::string cert_id = item.str("certificate_id"), type = item.str("target_type");
  // Running first: a job the server gave to someone else (or cancelled) is not touched.
  {
    auto r = server_.post("/api/v1/agents/" + agent_id_ + "/jobs/" + job + "/status",
                          R"({"status":"Running"})");
    if (!r) {
      log_("warn", "job " + job + ": status Running not delivered: " + r.error());
      return work_outcome::retry;
    }
    if (r->status == 410) return work_outcome::retired;
    if (r->status != 200) {
      log_("info", "job " + job + " not started (" + std::to_string(r->status) + "): " + r->body);
      return work_outcome::done;  // taken, cancelled or gone: nothing to do here
    }
    log_("info", "job " + job + ": Running");
  }

  const auto* reg = registry_.find_target(type);
  if (reg == nullptr)
    return report(
        job, "Failed",
        "no target connector of type '" + type + "' in this agent (target " + target_id + ")");
  const auto config = object_at(item, "target_config");
  if (auto ok = connectors::validate_config(reg->schema, config); !ok)
    return report(
        job, "Failed",
        "target " + target_id + " config: " + ok.error().field + ": " + ok.error().message);
  // Step outputs never carry the target's secrets (passwords, tokens) or a private key.
  std::vector<std::string> secrets;
  for (const auto& f : reg->schema.secret_fields())
    if (config.is_string(f.c_str())) secrets.push_back(config.str(f.c_str()));
  step_log steps(secrets);
  auto made = reg->make({target_id, config});
  if (!made) return report(job, "Failed", "target " + target_id + ": " + made.error().message);
  auto target = *made;
  auto timed = [](auto&& action) {
    const auto begin = std::chrono::steady_clock::now();
    auto out = action();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - begin)
                        .count();
    return std::make_pair(std::move(out), ms);
  };
  auto [valid, valid_ms] = timed([&] { return target->validate(); });
  steps.add("validate", static_cast<bool>(valid), valid_ms,
            valid ? "target " + target_id + " is ready" : valid.error().message);
  if (!valid) return report(job, "Failed", "validate: " + valid.error().message, &steps);
  if (!deploy) return report(job, "Completed", "target " + target_id + " validated", &steps);

  auto fetched = server_.get("/api/v1/agents/" + agent_id_ + "/certificates/" + cert_id);
  if (!fetched) return work_outcome::retry;  // Running stays; the next poll does not see it
  if (fetched->status == 410) return work_outcome::retired;
  if (fetched->status != 200)
    return report(job, "Failed",
                  "certificate " + cert_id + " could not be fetched (" +
                      std::to_string(fetched->status) + ")",
                  &steps);
  auto doc = events::json_object::parse(fetched->body).value_or(events::json_object{});
  auto parts = crypto::split_pem_chain(doc.str("certificate_pem"));
  if (!parts || parts->empty())
    return report(job, "Failed", "certificate " + cert_id + " came back without a PEM chain",
                  &steps);
  connectors::deployment_request req;
  req.certificate_id = cert_id;
  req.cert_pem = (*parts)[0];
  for (size_t i = 1; i < parts->size(); ++i) req.chain_pem += (*parts)[i];
  auto key = keys_.key_for(cert_id, req.cert_pem);
  if (!key) return report(job, "Failed", key.error().message, &steps);
  req.key_pem = std::move(*key);
  const std::string serial = doc.str("serial_number");
  req.metadata = {{"job_id", job},
                  {"target_id", target_id},
                  {"serial_hex", serial},
                  {"version_id", doc.str("version_id")}};
  // The file targets tell their inner steps (write, validate, reload, verify, rollback).
  req.on_step = [&steps](const connectors::deployment_step& st) {
    steps.add(st.name, st.ok, st.duration_ms, st.output);
  };

  auto [deployed, deploy_ms] = timed([&] { return target->deploy(req); });
  steps.add("deploy", static_cast<bool>(deployed), deploy_ms,
            deployed ? deployed->message : deployed.error().message);
  if (!deployed) return report(job, "Failed", "deploy: " + deployed.error().message, &steps);
  auto [verified, verify_ms] = timed([&] { return target->verify({cert_id, serial}); });
  const bool verified_ok = verified && verified->valid;
  std::string why;
  if (!verified_ok)
    why = !verified ? verified.error().message
                    : "target serves serial '" + verified->serial_hex + "', expected " + serial +
                          (verified->message.empty() ? "" : ": " + verified->message);
  steps.add("verify", verified_ok, verify_ms,
            verified_ok ? "serving serial " + serial + " (" + verified->message + ")" : why);
  if (!verified_ok) {
    auto [undone, undo_ms] = timed([&] { return target->rollback(deployed->deployment_id); });
    steps.add("rollback", static_cast<bool>(undone), undo_ms,
              undone ? "previous files restored" : undone.error().message);
    why += undone ? "; rolled back" : "; ROLLBACK FAILED: " + undone.error().message;
    return report(job, "Failed", "verify: " + why, &steps);
  }
  keys_.prune_older(cert_id, req.cert_pem);
  return report(job, "Completed",
                std::string(deployed->unchanged ? "unchanged (already deployed)"
                                                : "deployed: " + deployed->message) +
                    "; verified: serving serial " + serial,
                &steps);
}

}  // namespace certctl::agent
