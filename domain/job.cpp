#include "domain/job.hpp"

#include <cctype>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

bool in(const std::string& s, std::initializer_list<const char*> set) {
  for (const char* x : set)
    if (s == x) return true;
  return false;
}

bool terminal(const std::string& status) {
  return in(status, {"Completed", "Failed", "Cancelled"});
}

class job final : public aggregate {
 public:
  explicit job(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "job"; }
  bool exists() const override { return view_.has("id"); }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    if (e.type == "job.csr_submitted") csr_pem_ = p.str("csr_pem");
    fold_job(view_, id_, e, p);
  }

  result<decision, domain_error> decide(const command& c) const override {
    const std::string status = view_.str("status");
    if (c.name == "job.create") {
      if (exists()) return conflict("job " + id_ + " already exists");
      if (auto err = check_fields(c.body, {{"type", 's'},
                                           {"certificate_id", 's'},
                                           {"max_attempts", 'i'},
                                           {"awaiting_csr", 'b'},
                                           {"awaiting_approval", 'b'},
                                           {"target_id", 's'},
                                           {"csr_pem", 's'},
                                           {"refusal", 's'}}))
        return *err;
      if (auto err = require_strings(c.body, {"type"})) return *err;
      const std::string type = c.body.str("type");
      // A Validation job checks a deployment target (POST /targets/{id}/test): it may concern
      // no certificate. Every other job is about one.
      if (type != "Validation")
        if (auto err = require_strings(c.body, {"certificate_id"})) return *err;
      if (!in(type, {"Issuance", "Renewal", "Deployment", "Validation"}))
        return invalid("job type must be Issuance, Renewal, Deployment or Validation");
      const std::int64_t max_attempts = c.body.int64("max_attempts", 3);
      if (max_attempts < 1 || max_attempts > 100) return invalid("max_attempts must be 1-100");
      events::json_object p;
      const bool awaiting_csr = c.body.boolean("awaiting_csr");
      const bool awaiting_approval = c.body.boolean("awaiting_approval");
      p.set("type", type);
      if (c.body.is_string("certificate_id") && !c.body.str("certificate_id").empty())
        p.set("certificate_id", c.body.str("certificate_id"));
      p.set("status", awaiting_approval ? "AwaitingApproval"
                      : awaiting_csr    ? "AwaitingCSR"
                                        : "Pending")
          .set("max_attempts", max_attempts)
          .set("awaiting_csr_mode", awaiting_csr ? "agent" : "server");
      if (c.body.has("target_id")) p.set("target_id", c.body.str("target_id"));
      if (c.body.has("agent_id")) p.set("agent_id", c.body.str("agent_id"));
      // A job that cannot run (a deployment to a disabled target, an agent that is gone) is
      // still recorded, so the failure is where operators look: created, started and failed in
      // one append, the same events as job.create, job.start, job.fail, with no moment in
      // which an agent or a read model sees it Pending.
      if (c.body.has("refusal")) {
        if (awaiting_csr || awaiting_approval || c.body.has("csr_pem"))
          return invalid(
              "a refusal at creation excludes awaiting_csr, awaiting_approval and "
              "csr_pem");
        if (auto err = require_strings(c.body, {"refusal"})) return *err;
        events::json_object failed;
        failed.set("error", c.body.str("refusal")).set("retry", false);
        return decision{
            {"job.created", p}, {"job.started", events::json_object{}}, {"job.failed", failed}};
      }
      // A caller that holds the CSR already (ACME finalize) hands it over with the creation:
      // the same three events as job.create then job.submit_csr, one append instead of two.
      if (c.body.has("csr_pem")) {
        if (!awaiting_csr || awaiting_approval)
          return invalid("csr_pem at creation needs awaiting_csr and no awaiting_approval");
        if (auto err = require_strings(c.body, {"csr_pem"})) return *err;
        events::json_object csr;
        csr.set("csr_pem", c.body.str("csr_pem"));
        return decision{
            {"job.created", p}, {"job.csr_submitted", csr}, {"job.started", events::json_object{}}};
      }
      return decision{{"job.created", p}};
    }
    if (!exists()) return not_found("job " + id_ + " not found");
    if (c.name == "job.approve" || c.name == "job.reject") {
      if (status != "AwaitingApproval")
        return conflict("job " + id_ + " is " + status + ", not AwaitingApproval");
      events::json_object p;
      p.set("decided_by", c.principal);
      if (c.body.is_string("reason")) p.set("reason", c.body.str("reason").substr(0, 1024));
      return decision{{c.name == "job.approve" ? "job.approved" : "job.rejected", p}};
    }
    if (c.name == "job.record_verification") return record_verification(c);
    if (c.name == "job.start") {
      if (status != "Pending") return conflict("job " + id_ + " is " + status + ", not Pending");
      return decision{{"job.started", events::json_object{}}};
    }
    if (c.name == "job.submit_csr") {
      if (status != "AwaitingCSR")
        return conflict("job " + id_ + " is " + status + ", not AwaitingCSR");
      if (auto err = require_strings(c.body, {"csr_pem"})) return *err;
      events::json_object p;
      p.set("csr_pem", c.body.str("csr_pem"));
      return decision{{"job.csr_submitted", p}, {"job.started", events::json_object{}}};
    }
    if (c.name == "job.await_order") {
      if (status != "Running") return conflict("job " + id_ + " is " + status + ", not Running");
      if (view_.str("order_state") == "pending")
        return conflict("job " + id_ + " already awaits order " + view_.str("order_id"));
      if (auto err = check_fields(c.body, {{"order_id", 's'},
                                           {"issuer_id", 's'},
                                           {"keygen", 's'},
                                           {"order_state", 's'},
                                           {"next_poll_at", 's'}}))
        return *err;
      if (auto err = require_strings(c.body, {"order_id", "issuer_id", "keygen", "next_poll_at"}))
        return *err;
      events::json_object p = c.body;
      if (!p.has("order_state")) p.set("order_state", "pending");
      return decision{{"job.order_pending", p}};
    }
    if (c.name == "job.poll_order") {
      if (status != "Running" || view_.str("order_state") != "pending")
        return conflict("job " + id_ + " has no pending order");
      if (auto err = require_strings(c.body, {"order_state", "next_poll_at"})) return *err;
      events::json_object p;
      p.set("order_state", c.body.str("order_state"))
          .set("next_poll_at", c.body.str("next_poll_at"));
      if (c.body.has("message")) p.set("message", c.body.str("message"));
      if (c.body.is_string("ca_state")) {
        if (!in(c.body.str("ca_state"),
                {"pending_approval", "processing", "rate_limited", "unreachable"}))
          return invalid(
              "ca_state must be pending_approval, processing, rate_limited or unreachable");
        p.set("ca_state", c.body.str("ca_state"));
      }
      return decision{{"job.order_polled", p}};
    }
    if (c.name == "job.record_order_cancel") {
      // After job.cancel: what the CA said when asked to withdraw the job's pending order.
      if (status != "Cancelled" || view_.str("order_state") != "pending")
        return conflict("job " + id_ + " has no pending order of a cancelled job");
      if (auto err = require_strings(c.body, {"outcome"})) return *err;
      if (!in(c.body.str("outcome"), {"cancelled", "failed", "unsupported"}))
        return invalid("outcome must be cancelled, failed or unsupported");
      events::json_object p;
      p.set("order_id", view_.str("order_id")).set("outcome", c.body.str("outcome"));
      if (c.body.is_string("message")) p.set("message", c.body.str("message").substr(0, 1024));
      return decision{{"job.order_cancelled", p}};
    }
    if (c.name == "job.complete") {
      if (status != "Running") return conflict("job " + id_ + " is " + status + ", not Running");
      events::json_object p;
      if (c.body.has("version_id")) p.set("version_id", c.body.str("version_id"));
      if (c.body.is_string("message")) p.set("message", c.body.str("message"));
      return decision{{"job.completed", p}};
    }
    if (c.name == "job.fail") {
      if (status != "Running") return conflict("job " + id_ + " is " + status + ", not Running");
      events::json_object p;
      const bool retry = c.body.boolean("retryable", true) &&
                         view_.int64("attempts") < view_.int64("max_attempts");
      p.set("error", c.body.str("error", "unknown error")).set("retry", retry);
      if (retry)
        p.set("next_attempt_at", c.body.str("next_attempt_at", events::format_rfc3339(c.now)));
      return decision{{"job.failed", p}};
    }
    if (c.name == "job.record_step") return record_step(c);
    if (c.name == "job.time_out") {
      // A Deployment or Validation job its agent neither finished nor reported on in time
      // (actors/schedulers/deployment_timeout.hpp): Failed for good, so a late report is a
      // conflict and changes nothing.
      if (status != "Pending" && status != "Running")
        return conflict("job " + id_ + " is " + status + ", not Pending or Running");
      if (auto err = check_fields(c.body, {{"error", 's'}, {"timeout_seconds", 'i'}})) return *err;
      if (auto err = require_strings(c.body, {"error"})) return *err;
      events::json_object p;
      p.set("error", c.body.str("error"))
          .set("timeout_seconds", c.body.int64("timeout_seconds"))
          .set("previous_status", status);
      if (view_.has("agent_id")) p.set("agent_id", view_.str("agent_id"));
      return decision{{"job.timed_out", p}};
    }
    if (c.name == "job.cancel") {
      if (terminal(status)) return conflict("job " + id_ + " is already " + status);
      events::json_object p;
      if (c.body.has("reason")) p.set("reason", c.body.str("reason"));
      return decision{{"job.cancelled", p}};
    }
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return job_view(view_); }

  events::json_object snapshot() const override {
    events::json_object s;
    s.set_raw("view", view_.dump()).set("csr_pem", csr_pem_);
    return s;
  }

  void restore(const events::json_object& snapshot) override {
    view_ = events::json_object::parse(snapshot.raw("view")).value_or(events::json_object{});
    csr_pem_ = snapshot.str("csr_pem");
  }

 private:
  /// What a probe of the live endpoint found after the job's work was done (the agent after a
  /// deployment, or an operator): the fingerprint expected, the one served, and the verdict,
  /// which must agree with the two fingerprints.
  result<decision, domain_error> record_verification(const command& c) const {
    if (view_.str("status") != "Completed")
      return conflict("job " + id_ + " is " + view_.str("status") +
                      ": only a completed job's result can be verified");
    if (auto err = check_fields(c.body, {{"target_id", 's'},
                                         {"expected_fingerprint", 's'},
                                         {"actual_fingerprint", 's'},
                                         {"error", 's'}}))
      return *err;
    if (auto err = require_strings(c.body, {"target_id", "expected_fingerprint"})) return *err;
    if (!c.body.is_bool("verified")) return invalid("field 'verified' must be a boolean");
    auto fingerprint = [](const std::string& f) {
      std::string out;
      for (char ch : f)
        if (ch != ':')
          out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      return out;
    };
    const std::string expected = fingerprint(c.body.str("expected_fingerprint"));
    const std::string actual = fingerprint(c.body.str("actual_fingerprint"));
    for (const auto* f : {&expected, &actual})
      if (!f->empty() &&
          (f->size() != 64 || f->find_first_not_of("0123456789abcdef") != std::string::npos))
        return invalid("fingerprints are SHA-256 in hex (64 digits, colons allowed)");
    const bool verified = c.body.boolean("verified");
    if (verified && actual != expected)
      return invalid("verified is true but the actual fingerprint differs from the expected one");
    events::json_object p;
    p.set("target_id", c.body.str("target_id"))
        .set("expected_fingerprint", expected)
        .set("actual_fingerprint", actual)
        .set("verified", verified);
    if (c.body.is_string("error")) p.set("error", c.body.str("error").substr(0, 1024));
    return decision{{"job.verification_recorded", p}};
  }

  /// One step of a deployment as the agent reports it (validate, write, reload, verify,
  /// rollback, ...): name, outcome, duration and a short excerpt of its output. The agent
  /// redacts secrets; the excerpt is bounded here too, so a job's record stays small.
  result<decision, domain_error> record_step(const command& c) const {
    if (view_.str("status") != "Running")
      return conflict("job " + id_ + " is " + view_.str("status") + ", not Running");
    const std::string type = view_.str("type");
    if (type != "Deployment" && type != "Validation")
      return invalid("only Deployment and Validation jobs have steps");
    if (auto err = check_fields(c.body, {{"step", 's'},
                                         {"outcome", 's'},
                                         {"duration_ms", 'i'},
                                         {"output", 's'},
                                         {"started_at", 's'}}))
      return *err;
    if (auto err = require_strings(c.body, {"step", "outcome"})) return *err;
    const std::string step = c.body.str("step");
    if (step.size() > 32 ||
        step.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") != std::string::npos)
      return invalid("step must be a short lowercase name (validate, deploy, reload, verify, ...)");
    const std::string outcome = c.body.str("outcome");
    if (!in(outcome, {"succeeded", "failed", "skipped"}))
      return invalid("outcome must be succeeded, failed or skipped");
    if (c.body.int64("duration_ms") < 0) return invalid("duration_ms must not be negative");
    if (view_.int64("step_count") >= max_job_steps)
      return invalid("a job records at most " + std::to_string(max_job_steps) + " steps");
    events::json_object p;
    p.set("step", step)
        .set("outcome", outcome)
        .set("duration_ms", c.body.int64("duration_ms"))
        .set("output", c.body.str("output").substr(0, max_step_output));
    if (c.body.is_string("started_at")) p.set("started_at", c.body.str("started_at"));
    return decision{{"job.step_recorded", p}};
  }

  std::string id_;
  events::json_object view_;
  std::string csr_pem_;
};

}  // namespace

bool fold_job(events::json_object& state, const std::string& id, const events::recorded_event& e,
              const events::json_object& payload) {
  const auto& p = payload;
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "job.created") {
    state = p;
    state.set("id", id).set("attempts", std::int64_t{0}).set("created_at", at);
    if (!state.has("scheduled_at")) state.set("scheduled_at", at);
  } else if (e.type == "job.started") {
    // A new attempt places a new order, if any.
    for (const char* k :
         {"order_id", "order_issuer_id", "order_keygen", "order_state", "order_polls",
          "order_started_at", "order_ca_state", "order_message", "order_cancel_error"})
      state.remove(k);
    state.set("status", "Running")
        .set("attempts", state.int64("attempts") + 1)
        .set("started_at", at);
  } else if (e.type == "job.order_pending") {
    // The CA took the request and answers later: the order is the job's state from here on
    // (what to poll and when), so a restart resumes it. The status stays Running (the API's
    // JobStatus enum has no other word for it); order_state "pending" tells the loops apart.
    state.set("order_id", p.str("order_id"))
        .set("order_issuer_id", p.str("issuer_id"))
        .set("order_keygen", p.str("keygen"))
        .set("order_state", p.str("order_state", "pending"))
        .set("order_polls", std::int64_t{0})
        .set("order_started_at", at)
        .set("scheduled_at", p.str("next_poll_at"));
  } else if (e.type == "job.order_polled") {
    state.set("order_state", p.str("order_state"))
        .set("order_polls", state.int64("order_polls") + 1)
        .set("scheduled_at", p.str("next_poll_at"));
    if (p.has("message")) state.set("order_message", p.str("message"));
    if (p.has("ca_state")) state.set("order_ca_state", p.str("ca_state"));
  } else if (e.type == "job.order_cancelled") {
    // "cancelled": the CA withdrew it; otherwise the CA may still complete an order nobody
    // follows any more, and the job says why.
    state.set("order_state", p.str("outcome") == "cancelled" ? "cancelled" : "abandoned");
    state.remove("order_ca_state");
    if (p.has("message")) state.set("order_message", p.str("message"));
    if (p.str("outcome") != "cancelled") state.set("order_cancel_error", p.str("message"));
  } else if (e.type == "job.completed") {
    state.set("status", "Completed").set("completed_at", at);
    if (state.has("order_id")) state.set("order_state", "valid");
    if (p.has("version_id")) state.set("version_id", p.str("version_id"));
    if (p.has("message")) state.set("message", p.str("message"));
  } else if (e.type == "job.failed") {
    state.set("last_error", p.str("error"));
    if (state.str("order_state") == "pending") state.set("order_state", "invalid");
    if (p.boolean("retry")) {
      state.set("status", state.str("awaiting_csr_mode") == "agent" ? "AwaitingCSR" : "Pending")
          .set("scheduled_at", p.str("next_attempt_at"));
    } else {
      state.set("status", "Failed").set("completed_at", at);
    }
  } else if (e.type == "job.verification_recorded") {
    auto v = p;
    v.set("job_id", id).set("verified_at", at);
    state.set_raw("verification", v.dump());
    return true;  // the job's own status and updated time do not change
  } else if (e.type == "job.approved") {
    // Approval releases the job to whoever would have taken it without one.
    state.set("status", state.str("awaiting_csr_mode") == "agent" ? "AwaitingCSR" : "Pending")
        .set("scheduled_at", at);
  } else if (e.type == "job.rejected") {
    state.set("status", "Cancelled").set("completed_at", at);
    state.set("last_error", "approval rejected by " + p.str("decided_by") +
                                (p.has("reason") ? ": " + p.str("reason") : std::string()));
  } else if (e.type == "job.step_recorded") {
    // The steps list rides in the view (GET /api/v1/jobs/{id}), in the order they happened.
    std::string steps = state.is_array("steps") ? state.raw("steps") : "[]";
    auto step = p;
    step.set("recorded_at", at);
    steps.insert(steps.size() - 1, (steps.size() > 2 ? "," : "") + step.dump());
    state.set_raw("steps", steps).set("step_count", state.int64("step_count") + 1);
  } else if (e.type == "job.timed_out") {
    state.set("status", "Failed").set("completed_at", at).set("last_error", p.str("error"));
  } else if (e.type == "job.cancelled") {
    state.set("status", "Cancelled").set("completed_at", at);
    if (p.has("reason")) state.set("last_error", p.str("reason"));
  } else {
    return false;  // job.csr_submitted changes nothing the API shows
  }
  return true;
}

events::json_object job_view(const events::json_object& state) {
  auto v = state;
  v.remove(job_hidden_field);
  return v;
}

std::unique_ptr<aggregate> make_job(const std::string& id) {
  return std::make_unique<job>(id);
}

}  // namespace certctl::domain
