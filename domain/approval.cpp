#include "domain/approval.hpp"

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

class approval final : public aggregate {
 public:
  explicit approval(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "approval"; }
  bool exists() const override { return view_.has("id"); }

  void apply(const events::recorded_event& e) override { fold_approval(view_, id_, e); }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "approval.create") {
      if (exists()) return conflict("approval request " + id_ + " already exists");
      if (auto err = check_fields(c.body, {{"certificate_id", 's'},
                                           {"job_id", 's'},
                                           {"requested_by", 's'},
                                           {"profile_id", 's'},
                                           {"metadata", 'o'}}))
        return *err;
      if (auto err = require_strings(c.body, {"certificate_id", "job_id", "requested_by"}))
        return *err;
      events::json_object p;
      p.set("certificate_id", c.body.str("certificate_id"))
          .set("job_id", c.body.str("job_id"))
          .set("requested_by", c.body.str("requested_by"))
          .set("profile_id", c.body.str("profile_id"))
          .set_raw("metadata", c.body.is_object("metadata") ? c.body.raw("metadata") : "{}");
      return decision{{"approval.created", p}};
    }
    if (!exists()) return not_found("approval request " + id_ + " not found");
    const std::string state = view_.str("state");
    const bool deciding =
        c.name == "approval.approve" || c.name == "approval.reject" || c.name == "approval.expire";
    if (!deciding) return invalid("unknown command " + c.name);
    if (state != "pending") return conflict("approval request " + id_ + " is already " + state);
    if (c.name != "approval.expire" && c.principal == view_.str("requested_by"))
      return domain_error{domain_errc::forbidden,
                          "approval request " + id_ + ": " + c.principal +
                              " requested this issuance and cannot decide it (two-person rule)"};
    events::json_object p;
    if (c.name != "approval.expire") {
      p.set("decided_by", c.principal);
      if (c.body.is_string("note")) p.set("note", c.body.str("note").substr(0, 1024));
    }
    const char* type = c.name == "approval.approve"  ? "approval.approved"
                       : c.name == "approval.reject" ? "approval.rejected"
                                                     : "approval.expired";
    return decision{{type, p}};
  }

  events::json_object view() const override { return view_; }
  events::json_object snapshot() const override { return view_; }
  void restore(const events::json_object& snapshot) override { view_ = snapshot; }

 private:
  std::string id_;
  events::json_object view_;
};

}  // namespace

std::unique_ptr<aggregate> make_approval(const std::string& id) {
  return std::make_unique<approval>(id);
}

std::string approval_id_for_job(const std::string& job_id) {
  const std::string prefix = "job-";
  return "ar-" + (job_id.rfind(prefix, 0) == 0 ? job_id.substr(prefix.size()) : job_id);
}

bool fold_approval(events::json_object& view, const std::string& id,
                   const events::recorded_event& e) {
  auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
  const std::string at = events::format_rfc3339(e.occurred_at);
  if (e.type == "approval.created") {
    view = p;
    view.set("id", id).set("state", "pending").set("created_at", at);
  } else if (e.type == "approval.approved" || e.type == "approval.rejected" ||
             e.type == "approval.expired") {
    view.set("state", e.type.substr(e.type.find('.') + 1)).set("decided_at", at);
    if (p.has("decided_by")) view.set("decided_by", p.str("decided_by"));
    if (p.has("note")) view.set("decision_note", p.str("note"));
  } else {
    return false;
  }
  view.set("updated_at", at);
  return true;
}

}  // namespace certctl::domain
