// new-account (RFC 8555 §7.3) and account update / deactivation (§7.3.2, §7.3.6).
#include "gateways/acme/acme_impl.hpp"

namespace certctl::gateways::acme {

std::string acme_server::impl::account_json(const request& r, const events::json_object& v) const {
  rest::json_writer w;
  w.begin_object().field("status", v.str("status"));
  w.key("contact").begin_array();
  for (const auto& c : v.str_array("contact")) w.string(c);
  w.end_array();
  if (v.boolean("terms_of_service_agreed")) w.field("termsOfServiceAgreed", true);
  w.field("orders", url(r, "account/" + v.str("id") + "/orders"));
  w.end_object();
  return w.str();
}

rest::response acme_server::impl::new_account(const request& r) {
  auto a = authenticate(r, key_rule::jwk);
  if (!a) return render(a.error());
  auto body = payload(*a);
  if (!body) return render(body.error());
  rest::field_reader in(*body);
  const auto contact = in.string_array("contact");
  const bool agreed = in.optional_bool("termsOfServiceAgreed").value_or(false);
  const bool only_existing = in.optional_bool("onlyReturnExisting").value_or(false);
  if (in.optional_object("externalAccountBinding") != nullptr)
    return render(malformed("external account binding is not required by this server"));
  if (auto e = in.error()) return render(malformed(e->message));
  const std::string id = account_id_of(a->key);
  const std::string principal = "acme:" + id;
  auto existing = exec("acme_account", "acme_account.get", id, {}, r, principal);
  int status = 200;
  events::json_object view;
  if (existing) {
    view = existing->view;
  } else if (existing.error().code != domain::domain_errc::not_found) {
    return render(from_domain(existing.error()));
  } else if (only_existing) {
    return render(problem{"accountDoesNotExist", 400, "no account exists for this key"});
  } else {
    if (!opt.terms_of_service.empty() && !agreed)
      return render(problem{"userActionRequired", 403, "the terms of service must be agreed"});
    events::json_object cmd;
    cmd.set("jwk", a->key.canonical_json)
        .set("thumbprint", a->key.thumbprint)
        .set("contact", contact)
        .set("terms_of_service_agreed", agreed)
        .set("profile_id", r.profile_id);
    auto made = exec("acme_account", "acme_account.register", id, cmd, r, principal);
    if (!made) {
      auto p = from_domain(made.error());
      if (made.error().code == domain::domain_errc::invalid) p.type = "invalidContact";
      return render(p);
    }
    view = made->view;
    // A concurrent new-account with the same key may have won: then nothing was written.
    status = made->position > 0 ? 201 : 200;
  }
  auto resp = json(account_json(r, view), status);
  resp.with_header("Location", url(r, "account/" + id));
  return resp;
}

rest::response acme_server::impl::account(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  if (a->account_id != r.c.path_param("id"))
    return render(unauthorized("the account URL does not match the signing account"));
  auto body = payload(*a);
  if (!body) return render(body.error());
  rest::field_reader in(*body);
  const auto status = in.optional_string("status");
  const bool has_contact = body->HasMember("contact");
  const auto contact = in.string_array("contact");
  if (auto e = in.error()) return render(malformed(e->message));
  events::json_object view = a->account;
  if (status) {
    if (*status != "deactivated")
      return render(malformed("an account's status can only be set to deactivated"));
    auto res =
        exec("acme_account", "acme_account.deactivate", a->account_id, {}, r, a->principal());
    if (!res) return render(from_domain(res.error()));
    view = res->view;
  } else if (has_contact) {
    events::json_object cmd;
    cmd.set("contact", contact);
    auto res = exec("acme_account", "acme_account.update", a->account_id, cmd, r, a->principal());
    if (!res) {
      auto p = from_domain(res.error());
      if (res.error().code == domain::domain_errc::invalid) p.type = "invalidContact";
      return render(p);
    }
    view = res->view;
  }
  return json(account_json(r, view));
}

}  // namespace certctl::gateways::acme
