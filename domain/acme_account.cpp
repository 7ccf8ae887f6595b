#include "domain/acme_account.hpp"

#include "domain/rules.hpp"
#include "events/time.hpp"

namespace certctl::domain {
namespace {

/// RFC 8555 §7.3: contacts are URLs; we accept mailto: only (as Let's Encrypt does), since we
/// send no mail and other schemes would only be stored unverified.
std::optional<domain_error> check_contacts(const events::json_object& body) {
  if (!body.has("contact")) return std::nullopt;
  if (!body.is_string_array("contact")) return invalid("contact must be an array of strings");
  const auto contacts = body.str_array("contact");
  if (contacts.size() > 10) return invalid("at most 10 contacts are allowed");
  for (const auto& c : contacts)
    if (c.rfind("mailto:", 0) != 0 || c.size() > 320 || c.find('@') == std::string::npos)
      return invalid("contact '" + c + "' is not a mailto: URL");
  return std::nullopt;
}

class acme_account final : public view_aggregate {
 public:
  explicit acme_account(std::string id) : view_aggregate(std::move(id)) {}

  std::string kind() const override { return "acme_account"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    const std::string at = events::format_rfc3339(e.occurred_at);
    if (e.type == "acme_account.registered") {
      view_ = p;
      view_.set("id", id_).set("status", "valid").set("created_at", at);
      if (!view_.has("contact")) view_.set("contact", std::vector<std::string>{});
    } else if (e.type == "acme_account.updated") {
      view_.merge(p);
    } else if (e.type == "acme_account.key_changed") {
      view_.set("jwk", p.str("jwk")).set("thumbprint", p.str("thumbprint"));
    } else if (e.type == "acme_account.deactivated") {
      view_.set("status", "deactivated");
    }
    view_.set("updated_at", at);
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "acme_account.register") {
      // A second new-account with the same key is answered with the existing account.
      if (exists()) return decision{};
      if (auto err = require_strings(c.body, {"jwk", "thumbprint"})) return *err;
      if (auto err = check_contacts(c.body)) return *err;
      events::json_object p;
      p.set("jwk", c.body.str("jwk"))
          .set("thumbprint", c.body.str("thumbprint"))
          .set("contact", c.body.str_array("contact"))
          .set("terms_of_service_agreed", c.body.boolean("terms_of_service_agreed"))
          .set("profile_id", c.body.str("profile_id"));
      return decision{{"acme_account.registered", p}};
    }
    if (!exists()) return not_found("ACME account " + id_ + " not found");
    const bool active = view_.str("status") == "valid";
    if (c.name == "acme_account.update") {
      if (!active) return domain_error{domain_errc::forbidden, "ACME account is deactivated"};
      if (auto err = check_contacts(c.body)) return *err;
      if (!c.body.has("contact")) return decision{};
      events::json_object p;
      p.set("contact", c.body.str_array("contact"));
      return decision{{"acme_account.updated", p}};
    }
    if (c.name == "acme_account.change_key") {
      if (!active) return domain_error{domain_errc::forbidden, "ACME account is deactivated"};
      if (auto err = require_strings(c.body, {"jwk", "thumbprint"})) return *err;
      if (c.body.str("thumbprint") == view_.str("thumbprint")) return decision{};
      events::json_object p;
      p.set("jwk", c.body.str("jwk"))
          .set("thumbprint", c.body.str("thumbprint"))
          .set("previous_thumbprint", view_.str("thumbprint"));
      return decision{{"acme_account.key_changed", p}};
    }
    if (c.name == "acme_account.deactivate") {
      if (!active) return decision{};
      return decision{{"acme_account.deactivated", events::json_object{}}};
    }
    return invalid("unknown command " + c.name);
  }
};

/// The claim of one account key (by thumbprint) for one account, written by key-change: a key
/// once claimed never moves to another account, even after it was replaced.
class acme_key final : public view_aggregate {
 public:
  explicit acme_key(std::string id) : view_aggregate(std::move(id)) {}

  std::string kind() const override { return "acme_key"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    if (e.type == "acme_key.bound") {
      view_ = p;
      view_.set("id", id_).set("created_at", events::format_rfc3339(e.occurred_at));
    }
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "acme_key.bind") {
      if (auto err = require_strings(c.body, {"account_id", "thumbprint"})) return *err;
      if (exists()) {
        if (view_.str("account_id") == c.body.str("account_id")) return decision{};
        return domain_error{domain_errc::conflict,
                            "the key belongs to ACME account " + view_.str("account_id")};
      }
      events::json_object p;
      p.set("account_id", c.body.str("account_id")).set("thumbprint", c.body.str("thumbprint"));
      return decision{{"acme_key.bound", p}};
    }
    if (!exists()) return not_found("ACME key " + id_ + " not found");
    return invalid("unknown command " + c.name);
  }
};

/// An external account binding key (RFC 8555 §7.3.4) an admin issued. The HMAC key itself is
/// sealed in the key store, never in an event; this records who made it and the one account
/// it bound.
class acme_eab final : public view_aggregate {
 public:
  explicit acme_eab(std::string id) : view_aggregate(std::move(id)) {}

  std::string kind() const override { return "acme_eab"; }

  void apply(const events::recorded_event& e) override {
    auto p = events::json_object::parse(e.payload).value_or(events::json_object{});
    const std::string at = events::format_rfc3339(e.occurred_at);
    if (e.type == "acme_eab.created") {
      view_ = p;
      view_.set("id", id_).set("created_at", at);
    } else if (e.type == "acme_eab.bound") {
      view_.set("account_id", p.str("account_id")).set("bound_at", at);
    }
  }

  result<decision, domain_error> decide(const command& c) const override {
    if (c.name == "acme_eab.create") {
      if (exists()) return domain_error{domain_errc::conflict, "EAB key " + id_ + " exists"};
      events::json_object p;
      p.set("created_by", c.principal);
      return decision{{"acme_eab.created", p}};
    }
    if (!exists()) return not_found("EAB key " + id_ + " not found");
    if (c.name == "acme_eab.bind") {
      if (auto err = require_strings(c.body, {"account_id"})) return *err;
      const std::string bound = view_.str("account_id");
      if (bound == c.body.str("account_id")) return decision{};
      if (!bound.empty())
        return domain_error{domain_errc::conflict, "EAB key " + id_ + " is already bound"};
      events::json_object p;
      p.set("account_id", c.body.str("account_id"));
      return decision{{"acme_eab.bound", p}};
    }
    return invalid("unknown command " + c.name);
  }
};

}  // namespace

std::unique_ptr<aggregate> make_acme_eab(const std::string& id) {
  return std::make_unique<acme_eab>(id);
}

std::unique_ptr<aggregate> make_acme_account(const std::string& id) {
  return std::make_unique<acme_account>(id);
}

std::unique_ptr<aggregate> make_acme_key(const std::string& id) {
  return std::make_unique<acme_key>(id);
}

}  // namespace certctl::domain
