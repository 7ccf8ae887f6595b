#include "domain/acme_authz.hpp"

#include <map>

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

class acme_authz final : public aggregate {
 public:
  explicit acme_authz(std::string id) : id_(std::move(id)) {}

  std::string kind() const override { return "acme_authz"; }
  bool exists() const override { return view_.has("id"); }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    const std::string at = events::format_rfc3339(e.occurred_at);
    if (e.type == "acme_authz.created") {
      view_ = p;
      view_.set("id", id_).set("created_at", at);
      // Per challenge type: pending | processing | valid | invalid.
      std::map<std::string, std::string> challenges;
      const bool valid = p.str("status") == "valid";
      for (const auto& t : p.str_array("challenge_types")) challenges[t] = p.str("status");
      view_.set("challenge_status", challenges);
      if (valid) view_.set("validated_at", at);
    } else if (e.type == "acme_authz.challenge_started") {
      set_challenge(p.str("type"), "processing");
    } else if (e.type == "acme_authz.validated") {
      set_challenge(p.str("type"), "valid");
      view_.set("status", "valid").set("validated_at", at);
    } else if (e.type == "acme_authz.validation_failed") {
      set_challenge(p.str("type"), "invalid");
      view_.set("status", "invalid").set("error", p.str("error"));
    } else if (e.type == "acme_authz.deactivated") {
      view_.set("status", "deactivated");
    }
    view_.set("updated_at", at);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "acme_authz.create") {
      if (exists()) return decision{};
      if (auto err = require_strings(c.body, {"account_id", "order_id", "identifier_type",
                                              "identifier_value", "status", "expires", "token"}))
        return *err;
      const auto status = c.body.str("status");
      if (status != "valid" && status != "pending") return invalid("status must be valid|pending");
      if (!c.body.is_string_array("challenge_types") || c.body.str_array("challenge_types").empty())
        return invalid("challenge_types must be a non-empty array of strings");
      events::json_object p;
      for (const char* f : {"account_id", "order_id", "identifier_type", "identifier_value",
                            "status", "expires", "token"})
        p.set(f, c.body.str(f));
      p.set("challenge_types", c.body.str_array("challenge_types"))
          .set("wildcard", c.body.boolean("wildcard"));
      return decision{{"acme_authz.created", p}};
    }
    if (!exists()) return not_found("ACME authorization " + id_ + " not found");
    const std::string status = view_.str("status");
    const std::string type = c.body.str("type");
    const auto challenges = view_.str_map("challenge_status");
    if (c.name == "acme_authz.start_challenge") {
      if (challenges.count(type) == 0) return not_found("no " + type + " challenge");
      // Responding again to a challenge already under way or decided changes nothing.
      if (status != "pending" || challenges.at(type) != "pending") return decision{};
      events::json_object p;
      p.set("type", type);
      return decision{{"acme_authz.challenge_started", p}};
    }
    if (c.name == "acme_authz.record_validation") {
      if (challenges.count(type) == 0) return not_found("no " + type + " challenge");
      if (status != "pending" || challenges.at(type) != "processing") return decision{};
      events::json_object p;
      p.set("type", type);
      if (c.body.boolean("valid")) return decision{{"acme_authz.validated", p}};
      p.set("error", c.body.str("error", "validation failed"));
      return decision{{"acme_authz.validation_failed", p}};
    }
    if (c.name == "acme_authz.deactivate") {
      if (status == "deactivated") return decision{};
      if (status != "valid" && status != "pending")
        return conflict("authorization is " + status + " and cannot be deactivated");
      return decision{{"acme_authz.deactivated", events::json_object{}}};
    }
    return invalid("unknown command " + c.name);
  }

  events::json_object view() const override { return view_; }
  void restore(const events::json_object& snapshot) override { view_ = snapshot; }

 private:
  void set_challenge(const std::string& type, const std::string& to) {
    auto m = view_.str_map("challenge_status");
    m[type] = to;
    view_.set("challenge_status", m);
  }

  std::string id_;
  events::json_object view_;
};

}  // namespace

std::unique_ptr<aggregate> make_acme_authz(const std::string& id) {
  return std::make_unique<acme_authz>(id);
}

}  // namespace certctl::domain
