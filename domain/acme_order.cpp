#include "domain/acme_order.hpp"

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

class acme_order final : public view_aggregate {
 public:
  explicit acme_order(std::string id) : view_aggregate(std::move(id)) {}

  std::string kind() const override { return "acme_order"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    const std::string at = events::format_rfc3339(e.occurred_at);
    if (e.type == "acme_order.created") {
      view_ = p;
      view_.set("id", id_).set("created_at", at);
    } else if (e.type == "acme_order.ready") {
      view_.set("status", "ready");
    } else if (e.type == "acme_order.processing") {
      view_.merge(p);
      view_.set("status", "processing");
    } else if (e.type == "acme_order.valid") {
      view_.merge(p);
      view_.set("status", "valid");
    } else if (e.type == "acme_order.invalid") {
      view_.set("status", "invalid").set("error", p.str("error"));
    }
    view_.set("updated_at", at);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "acme_order.create") {
      if (exists()) return decision{};
      if (auto err = require_strings(c.body, {"account_id", "expires", "status"})) return *err;
      const auto status = c.body.str("status");
      if (status != "pending" && status != "ready") return invalid("status must be pending|ready");
      if (!c.body.is_array("identifiers")) return invalid("identifiers must be an array");
      if (!c.body.is_string_array("authorizations") || c.body.str_array("authorizations").empty())
        return invalid("authorizations must be a non-empty array of strings");
      events::json_object p;
      p.set("account_id", c.body.str("account_id"))
          .set("profile_id", c.body.str("profile_id"))
          .set_raw("identifiers", c.body.raw("identifiers"))
          .set("authorizations", c.body.str_array("authorizations"))
          .set("expires", c.body.str("expires"))
          .set("status", status);
      if (c.body.is_string("replaces")) p.set("replaces", c.body.str("replaces"));
      return decision{{"acme_order.created", p}};
    }
    if (!exists()) return not_found("ACME order " + id_ + " not found");
    const std::string status = view_.str("status");
    if (c.name == "acme_order.mark_ready") {
      if (status != "pending") return decision{};
      return decision{{"acme_order.ready", events::json_object{}}};
    }
    if (c.name == "acme_order.finalize") {
      if (status != "ready") return conflict("order is " + status + ", not ready");
      if (auto err = require_strings(c.body, {"certificate_id", "job_id"})) return *err;
      events::json_object p;
      p.set("certificate_id", c.body.str("certificate_id")).set("job_id", c.body.str("job_id"));
      return decision{{"acme_order.processing", p}};
    }
    if (c.name == "acme_order.record_issued") {
      if (status != "processing") return decision{};
      if (auto err = require_strings(c.body, {"serial_number"})) return *err;
      events::json_object p;
      p.set("serial_number", c.body.str("serial_number"));
      return decision{{"acme_order.valid", p}};
    }
    if (c.name == "acme_order.record_failure" || c.name == "acme_order.invalidate") {
      if (status == "valid" || status == "invalid") return decision{};
      events::json_object p;
      p.set("error", c.body.str("error", "order failed"));
      return decision{{"acme_order.invalid", p}};
    }
    return invalid("unknown command " + c.name);
  }
};

}  // namespace

std::unique_ptr<aggregate> make_acme_order(const std::string& id) {
  return std::make_unique<acme_order>(id);
}

}  // namespace certctl::domain
