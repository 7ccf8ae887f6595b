// new-order and order (RFC 8555 §7.4), authorizations (§7.5, §7.5.2), challenges (§7.5.1),
// and how an order moves along (§7.1.6).
#include <algorithm>
#include <cctype>

#include "domain/rules.hpp"
#include "events/time.hpp"
#include "gateways/acme/acme_impl.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::gateways::acme {
namespace {

/// RFC 8555 §7.1.3 / §8: a wildcard can only be proven over DNS; any other name by any of
/// the three methods. Every challenge of an authorization shares its one token.
std::vector<std::string> challenge_types(bool wildcard) {
  if (wildcard) return {"dns-01"};
  return {"http-01", "dns-01", "tls-alpn-01"};
}

/// RFC 1035 host name syntax (lower case after normalisation); "*." allowed in front.
bool valid_dns_name(const std::string& name) {
  std::string rest = name.rfind("*.", 0) == 0 ? name.substr(2) : name;
  if (rest.empty() || rest.size() > 253) return false;
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t dot = rest.find('.', start);
    const std::string label = rest.substr(start, dot == std::string::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    for (char ch : label)
      if (!(std::islower(static_cast<unsigned char>(ch)) ||
            std::isdigit(static_cast<unsigned char>(ch)) || ch == '-'))
        return false;
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

std::string rfc3339_in(std::chrono::seconds from_now) {
  const auto t = std::chrono::system_clock::now() + from_now;
  return events::format_rfc3339(
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

}  // namespace

std::string acme_server::impl::order_json(const request& r, const events::json_object& v) const {
  http::json_writer w;
  w.begin_object().field("status", v.str("status")).field("expires", v.str("expires"));
  w.key("identifiers").raw(v.raw("identifiers"));
  w.key("authorizations").begin_array();
  for (const auto& id : v.str_array("authorizations")) w.string(url(r, "authz/" + id));
  w.end_array().field("finalize", url(r, "order/" + v.str("id") + "/finalize"));
  if (v.str("status") == "valid") w.field("certificate", url(r, "cert/" + v.str("certificate_id")));
  if (!v.str("profile_id").empty()) w.field("profile", v.str("profile_id"));
  if (v.has("replaces")) w.field("replaces", v.str("replaces"));
  if (v.str("status") == "invalid") {
    w.key("error").begin_object();
    w.field("type", "urn:ietf:params:acme:error:serverInternal").field("detail", v.str("error"));
    w.end_object();
  }
  w.end_object();
  return w.str();
}

std::string acme_server::impl::challenge_json(const request& r, const events::json_object& az,
                                              const std::string& type) const {
  http::json_writer w;
  const auto status = az.str_map("challenge_status")[type];
  w.begin_object()
      .field("type", type)
      .field("url", url(r, "challenge/" + az.str("id") + "." + type))
      .field("status", status)
      .field("token", az.str("token"));
  if (status == "valid") w.field("validated", az.str("validated_at"));
  if (status == "invalid") {
    w.key("error").begin_object();
    w.field("type", "urn:ietf:params:acme:error:incorrectResponse")
        .field("detail", az.str("error"));
    w.end_object();
  }
  w.end_object();
  return w.str();
}

std::string acme_server::impl::authz_json(const request& r, const events::json_object& v) const {
  http::json_writer w;
  w.begin_object().field("status", v.str("status")).field("expires", v.str("expires"));
  w.key("identifier").begin_object();
  w.field("type", v.str("identifier_type")).field("value", v.str("identifier_value"));
  w.end_object();
  w.key("challenges").begin_array();
  for (const auto& t : v.str_array("challenge_types")) w.raw(challenge_json(r, v, t));
  w.end_array();
  if (v.boolean("wildcard")) w.field("wildcard", true);
  w.end_object();
  return w.str();
}

events::json_object acme_server::impl::reconcile(const request& r, events::json_object order,
                                                 const std::string& principal) {
  const std::string status = order.str("status");
  const std::string id = order.str("id");
  auto step = [&](const char* name, events::json_object body) {
    if (auto res = exec("acme_order", name, id, std::move(body), r, principal)) order = res->view;
  };
  if (status == "pending" || status == "ready") {
    bool all_valid = true;
    for (const auto& az_id : order.str_array("authorizations")) {
      auto az = get("acme_authz", az_id, r);
      const std::string s = az ? az->str("status") : "invalid";
      if (s == "invalid" || s == "deactivated" || s == "expired" || s == "revoked") {
        events::json_object why;
        why.set("error", "authorization " + az_id + " is " + s);
        step("acme_order.invalidate", why);
        note_order_status(order);
        return order;
      }
      all_valid = all_valid && s == "valid";
    }
    if (status == "pending" && all_valid) step("acme_order.mark_ready", {});
  } else if (status == "processing") {
    const std::string cert_id = order.str("certificate_id");
    // The log first: an issued certificate settles the order without a round trip to the
    // certificate entity, which is only asked while nothing is issued yet.
    if (auto issued = deps.issued ? deps.issued(cert_id) : std::nullopt) {
      // The certificate is issued and recorded, which is what makes the order valid: the
      // answer need not wait for the order's own event. Until that event is in, every request
      // that reads the order comes here again and sends the (idempotent) command once more;
      // the entity runs it before any later read of the order.
      events::json_object body;
      body.set("serial_number", issued->serial_number);
      submit("acme_order", "acme_order.record_issued", id, body, r, principal);
      order.set("serial_number", issued->serial_number).set("status", "valid");
    } else if (auto cert = deps.runtime.read("certificate", cert_id);
               cert && cert->view.str("status") == "Failed") {
      events::json_object why;
      why.set("error", "issuance failed; see the job " + order.str("job_id"));
      step("acme_order.record_failure", why);
    }
  }
  note_order_status(order);
  return order;
}

http::response acme_server::impl::new_order(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  auto body = payload(*a);
  if (!body) return render(body.error());
  if (body->HasMember("notBefore") || body->HasMember("notAfter"))
    return render(malformed("notBefore and notAfter are not supported; the profile decides"));
  http::field_reader in(*body);
  const auto replaces = in.optional_string("replaces");
  const auto profile = in.optional_string("profile");
  if (auto e = in.error()) return render(malformed(e->message));
  const bool trusted = !settings(r).challenge();
  if (profile && *profile != r.profile_id)
    return render(problem{"invalidProfile", 400, "profile '" + *profile + "' is not offered here"});
  if (replaces) {
    // RFC 9773 §5: base64url(AKI) "." base64url(serial).
    const auto dot = replaces->find('.');
    if (dot == std::string::npos || !crypto::base64url_decode(replaces->substr(0, dot)) ||
        !crypto::base64url_decode(replaces->substr(dot + 1)))
      return render(malformed("replaces is not an ARI certificate identifier"));
  }
  auto ids = body->FindMember("identifiers");
  if (ids == body->MemberEnd() || !ids->value.IsArray() || ids->value.Empty())
    return render(malformed("identifiers must be a non-empty array"));
  if (ids->value.Size() > static_cast<unsigned>(opt.max_identifiers))
    return render(problem{"rejectedIdentifier", 400,
                          "at most " + std::to_string(opt.max_identifiers) + " identifiers"});
  std::vector<std::string> names;
  for (const auto& v : ids->value.GetArray()) {
    if (!v.IsObject() || !v.HasMember("type") || !v["type"].IsString() || !v.HasMember("value") ||
        !v["value"].IsString())
      return render(malformed("each identifier needs a string type and value"));
    if (std::string(v["type"].GetString()) != "dns")
      return render(problem{"unsupportedIdentifier", 400,
                            std::string("identifier type '") + v["type"].GetString() +
                                "' is not supported (dns only)"});
    const std::string name = lower(v["value"].GetString());
    if (!valid_dns_name(name))
      return render(problem{"rejectedIdentifier", 400, "'" + name + "' is not a DNS name"});
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  // Placed on this node in a cluster, with its authorizations, certificate and job after it
  // (docs/cluster.md "Affinity"): a client that stays on its connection is never forwarded.
  const std::string order_id =
      deps.runtime.mint_local_id("acme_order", [] { return "ord-" + crypto::random_hex(8); });
  const std::string order_stream = domain::stream_id("acme_order", order_id);
  const std::string expires = rfc3339_in(opt.order_lifetime);
  // Trusted orders are ready at once, so they never count as pending for long; reserving a
  // slot anyway keeps a client that never finalizes within the limit.
  if (auto limited = reserve_pending(r, a->account_id, order_id,
                                     std::chrono::steady_clock::now() + opt.order_lifetime))
    return render(*limited);
  if (auto limited = check_rate(a->account_id)) {
    release_pending(a->account_id, order_id);
    return render(*limited);
  }
  auto fail = [&](const domain::domain_error& e) {
    release_pending(a->account_id, order_id);
    return render(from_domain(e));
  };
  // The authorizations and the order go to the store together and share a group commit: the
  // order only names its authorizations' ids, so nothing needs one written before the other.
  // Should an authorization fail, the client never learns the order's URL, and reconcile
  // would find the order's authorization missing and invalidate it.
  std::vector<batch_command> cmds;
  std::vector<std::string> authz_ids;
  std::string identifiers = "[";
  for (const auto& name : names) {
    const std::string az_id = domain::affine_id("az-" + crypto::random_hex(8), order_stream);
    const bool wildcard = name.rfind("*.", 0) == 0;
    events::json_object az;
    az.set("account_id", a->account_id)
        .set("order_id", order_id)
        .set("identifier_type", "dns")
        .set("identifier_value", wildcard ? name.substr(2) : name)
        .set("wildcard", wildcard)
        .set("status", trusted ? "valid" : "pending")
        .set("expires", expires)
        .set("token", crypto::base64url_encode(crypto::random_bytes(32)))
        .set("challenge_types", challenge_types(wildcard));
    cmds.push_back({"acme_authz", "acme_authz.create", az_id, std::move(az)});
    authz_ids.push_back(az_id);
    identifiers += std::string(identifiers.size() > 1 ? "," : "") +
                   "{\"type\":\"dns\",\"value\":\"" + name + "\"}";
  }
  identifiers += "]";
  events::json_object o;
  o.set("account_id", a->account_id)
      .set("profile_id", r.profile_id)
      .set_raw("identifiers", identifiers)
      .set("authorizations", authz_ids)
      .set("expires", expires)
      .set("status", trusted ? "ready" : "pending");
  if (replaces) o.set("replaces", *replaces);
  cmds.push_back({"acme_order", "acme_order.create", order_id, std::move(o)});
  auto made = exec_all(std::move(cmds), r, a->principal());
  for (const auto& res : made)
    if (!res) return fail(res.error());
  const auto& order_view = made.back()->view;
  auto resp = json(order_json(r, order_view), 201);
  resp.with_header("Location", url(r, "order/" + order_id));
  return resp;
}

http::response acme_server::impl::order(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  auto o = get("acme_order", r.c.path_param("id"), r);
  if (!o) return render(o.error());
  if (o->str("account_id") != a->account_id)
    return render(unauthorized("the order belongs to another account"));
  auto now = reconcile(r, *o, a->principal());
  auto resp = json(order_json(r, now));
  if (now.str("status") == "processing") resp.with_header("Retry-After", "1");
  return resp;
}

http::response acme_server::impl::authz(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  auto az = get("acme_authz", r.c.path_param("id"), r);
  if (!az) return render(az.error());
  if (az->str("account_id") != a->account_id)
    return render(unauthorized("the authorization belongs to another account"));
  auto body = payload(*a);
  if (!body) return render(body.error());
  http::field_reader in(*body);
  const auto status = in.optional_string("status");
  if (auto e = in.error()) return render(malformed(e->message));
  events::json_object view = *az;
  if (status) {
    if (*status != "deactivated")
      return render(malformed("an authorization's status can only be set to deactivated"));
    auto res = exec("acme_authz", "acme_authz.deactivate", az->str("id"), {}, r, a->principal());
    if (!res) return render(from_domain(res.error()));
    view = res->view;
  }
  return json(authz_json(r, view));
}

http::response acme_server::impl::challenge(const request& r) {
  auto a = authenticate(r, key_rule::kid);
  if (!a) return render(a.error());
  const std::string chall = r.c.path_param("id");
  const auto dot = chall.rfind('.');
  if (dot == std::string::npos) return render(not_found_problem("no challenge " + chall));
  const std::string az_id = chall.substr(0, dot), type = chall.substr(dot + 1);
  auto az = get("acme_authz", az_id, r);
  if (!az) return render(az.error());
  if (az->str("account_id") != a->account_id)
    return render(unauthorized("the challenge belongs to another account"));
  if (az->str_map("challenge_status").count(type) == 0)
    return render(not_found_problem("no challenge " + chall));
  events::json_object view = *az;
  // POST-as-GET only reads; a "{}" payload asks us to validate (RFC 8555 §7.5.1).
  if (!a->jws.post_as_get) {
    events::json_object body;
    body.set("type", type);
    auto res = exec("acme_authz", "acme_authz.start_challenge", az_id, body, r, a->principal());
    if (!res) return render(from_domain(res.error()));
    view = res->view;
    if (res->position > 0) {
      // RFC 8555 §8.1: the key authorization binds the token to the account key.
      validation_job job{az_id,
                         type,
                         az->str("identifier_value"),
                         az->str("token"),
                         az->str("token") + "." + a->key.thumbprint,
                         a->account_id,
                         r.c.request_id};
      {
        std::lock_guard<std::mutex> lock(validation_mu);
        validations.push_back(std::move(job));
      }
      validation_cv.notify_one();
    }
  }
  auto resp = json(challenge_json(r, view, type));
  resp.with_header("Link", "<" + url(r, "authz/" + az_id) + ">;rel=\"up\"");
  return resp;
}

}  // namespace certctl::gateways::acme
