// new-account (RFC 8555 §7.3), account update / deactivation (§7.3.2, §7.3.6) and key-change
// (§7.3.5).
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "gateways/acme/acme_impl.hpp"

namespace certctl::gateways::acme {
namespace {

std::string json_text(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace

acme_result<std::string> acme_server::impl::account_of_key(const crypto::jwk& key,
                                                           const request& r) {
  auto claim = deps.runtime.read("acme_key", account_id_of(key));
  if (claim) return claim->view.str("account_id");
  if (claim.error().code != domain::domain_errc::not_found) return from_domain(claim.error());
  return account_id_of(key);
}

std::string acme_server::impl::account_json(const request& r, const events::json_object& v) const {
  http::json_writer w;
  w.begin_object().field("status", v.str("status"));
  w.key("contact").begin_array();
  for (const auto& c : v.str_array("contact")) w.string(c);
  w.end_array();
  if (v.boolean("terms_of_service_agreed")) w.field("termsOfServiceAgreed", true);
  w.field("orders", url(r, "account/" + v.str("id") + "/orders"));
  w.end_object();
  return w.str();
}

http::response acme_server::impl::new_account(const request& r) {
  auto a = authenticate(r, key_rule::jwk);
  if (!a) return render(a.error());
  auto body = payload(*a);
  if (!body) return render(body.error());
  http::field_reader in(*body);
  const auto contact = in.string_array("contact");
  const bool agreed = in.optional_bool("termsOfServiceAgreed").value_or(false);
  const bool only_existing = in.optional_bool("onlyReturnExisting").value_or(false);
  const rapidjson::Value* eab = in.optional_object("externalAccountBinding");
  if (auto e = in.error()) return render(malformed(e->message));
  auto owner = account_of_key(a->key, r);
  if (!owner) return render(owner.error());
  const std::string id = *owner;
  const std::string principal = "acme:" + id;
  auto existing = deps.runtime.read("acme_account", id);
  int status = 200;
  events::json_object view;
  if (existing) {
    // The key was this account's once, but key-change replaced it: it identifies nothing now.
    if (existing->view.str("thumbprint") != a->key.thumbprint)
      return render(unauthorized("this key was replaced by key-change and is no longer usable"));
    view = existing->view;
  } else if (existing.error().code != domain::domain_errc::not_found) {
    return render(from_domain(existing.error()));
  } else if (only_existing) {
    return render(problem{"accountDoesNotExist", 400, "no account exists for this key"});
  } else {
    if (!opt.terms_of_service.empty() && !agreed)
      return render(problem{"userActionRequired", 403, "the terms of service must be agreed"});
    if (settings(r).eab_required && eab == nullptr)
      return render(
          problem{"externalAccountRequired", 403, "new accounts need an externalAccountBinding"});
    if (eab != nullptr)
      if (auto p = bind_eab(r, *a, *eab, id)) return render(*p);
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

http::response acme_server::impl::account(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  if (a->account_id != r.c.path_param("id"))
    return render(unauthorized("the account URL does not match the signing account"));
  auto body = payload(*a);
  if (!body) return render(body.error());
  http::field_reader in(*body);
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

http::response acme_server::impl::key_change(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  crypto::jws_limits limits;
  limits.max_body = opt.max_body_bytes;
  auto inner = crypto::parse_jws(a->jws.payload, limits, crypto::jws_use::key_change_inner);
  if (!inner) return render(from_jws_error(inner.error()));
  if (inner->header.url != a->jws.header.url)
    return render(malformed("the inner JWS url does not match the outer JWS url"));
  const crypto::jwk new_key = *inner->header.key;
  if (auto ok = crypto::verify_jws(*inner, new_key); !ok) return render(from_jws_error(ok.error()));
  auto doc = http::parse_json(inner->payload, opt.max_body_bytes);
  if (!doc || !doc->IsObject()) return render(malformed("the inner payload is not a JSON object"));
  http::field_reader in(*doc);
  const std::string account = in.required_string("account");
  const rapidjson::Value* old_key_json = in.optional_object("oldKey");
  if (auto e = in.error()) return render(malformed("inner payload: " + e->message));
  if (old_key_json == nullptr) return render(malformed("inner payload: 'oldKey' is missing"));
  if (account != a->jws.header.kid)
    return render(malformed("the inner payload's account does not match the outer kid"));
  auto old_key = crypto::parse_jwk(json_text(*old_key_json));
  if (!old_key || old_key->thumbprint != a->key.thumbprint)
    return render(malformed("the inner payload's oldKey is not the account's current key"));
  if (new_key.thumbprint == a->key.thumbprint)
    return render(malformed("the new key is the account's current key"));

  // RFC 8555 §7.3.5: a key that already identifies an account is a conflict, with its URL.
  auto conflict = [&](const std::string& holder) {
    auto resp = render(problem{"malformed", 409, "the new key already belongs to an account"});
    resp.with_header("Location", url(r, "account/" + holder));
    return resp;
  };
  auto owner = account_of_key(new_key, r);
  if (!owner) return render(owner.error());
  if (*owner != a->account_id) {
    auto held = deps.runtime.read("acme_account", *owner);
    if (held) return conflict(*owner);
    if (held.error().code != domain::domain_errc::not_found)
      return render(from_domain(held.error()));
  }
  events::json_object claim;
  claim.set("account_id", a->account_id).set("thumbprint", new_key.thumbprint);
  auto bound = exec("acme_key", "acme_key.bind", account_id_of(new_key), claim, r, a->principal());
  if (!bound) {
    // Claimed by another account's key-change meanwhile.
    if (bound.error().code == domain::domain_errc::conflict)
      if (auto holder = account_of_key(new_key, r)) return conflict(*holder);
    return render(from_domain(bound.error()));
  }
  events::json_object cmd;
  cmd.set("jwk", new_key.canonical_json).set("thumbprint", new_key.thumbprint);
  auto res = exec("acme_account", "acme_account.change_key", a->account_id, cmd, r, a->principal());
  if (!res) return render(from_domain(res.error()));
  auto resp = json(account_json(r, res->view));
  resp.with_header("Location", url(r, "account/" + a->account_id));
  return resp;
}

}  // namespace certctl::gateways::acme
