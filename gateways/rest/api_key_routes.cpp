#include "gateways/rest/api_key_routes.hpp"

#include "gateways/rest/command_support.hpp"
#include "gateways/rest/query_support.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

/// The API view of a key: what it may do, never how it is checked.
events::json_object shown(events::json_object key) {
  key.remove("salt");
  key.remove("hash");
  return key;
}

http::response shown_doc(const sql::db_result<std::optional<std::string>>& doc,
                         const std::string& id) {
  if (!doc) return error_response(doc.error());
  if (!doc->has_value()) return http::error_response(404, "api key " + id + " not found");
  auto key = events::json_object::parse(**doc).value_or(events::json_object{});
  return http::json_response(shown(std::move(key)).dump());
}

/// Makes a create or revoke effective on this node before answering: the read model applies
/// it, then the directory re-reads (a revoked key must not work one second longer here).
void settle(api_key_context& ctx, std::int64_t position) {
  if (position > 0) ctx.projector.wait_for_position(position, std::chrono::seconds(5));
  ctx.directory.refresh();
}

}  // namespace

void add_api_key_routes(http::router& r, api_key_context& ctx) {
  r.add("POST", "/api/v1/api-keys", role::admin, [&ctx](http::request_context& c) {
    http::response err;
    auto body = body_of(c, err);
    if (!body) return err;
    if (body->has("salt") || body->has("hash") || body->has("key"))
      return http::error_response(400, "the server makes the key; send no key, salt or hash");
    const std::string name = body->str("name");
    if (ctx.directory.is_configured_name(name))
      return http::error_response(409, "a configured key is already named " + name);
    const std::string key = "cck_" + crypto::random_hex(32);
    const std::string salt = crypto::random_hex(16);
    std::string raw_salt;
    for (size_t i = 0; i < salt.size(); i += 2)
      raw_salt.push_back(static_cast<char>(std::stoi(salt.substr(i, 2), nullptr, 16)));
    body->set("salt", salt).set("hash", crypto::to_hex(http::salted_hash(raw_salt, key)));
    // One entity per name: a second key of the same name conflicts until the first is revoked.
    auto res = ctx.runtime.execute(
        "api_key", command_for(c, "api_key.create", "key-" + name, std::move(*body)));
    if (!res) return render(res, 201);
    settle(ctx, res->position);
    auto view = shown(res->view);
    view.set("key", key);  // the only time it is shown
    auto resp = http::json_response(view.dump(), 201);
    resp.with_header("X-Certctl-Position", std::to_string(res->position));
    resp.with_header("Cache-Control", "no-store");
    return resp;
  });
  r.add("GET", "/api/v1/api-keys", role::admin, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    auto page = projections::list_resources(ctx.db, "api_key", p->page, p->per_page);
    if (!page) return error_response(page.error());
    for (auto& doc : page->data)
      doc = shown(events::json_object::parse(doc).value_or(events::json_object{})).dump();
    return http::json_response(projections::page_json(*page));
  });
  r.add("GET", "/api/v1/api-keys/{id}", role::admin, [&ctx](http::request_context& c) {
    return shown_doc(projections::get_resource(ctx.db, "api_key", c.path_param("id")),
                     c.path_param("id"));
  });
  r.add("DELETE", "/api/v1/api-keys/{id}", role::admin, [&ctx](http::request_context& c) {
    auto res =
        ctx.runtime.execute("api_key", command_for(c, "api_key.delete", c.path_param("id"), {}));
    if (!res) return render(res, 204);
    settle(ctx, res->position);
    http::response resp;
    resp.status = 204;
    resp.content_type.clear();
    resp.with_header("X-Certctl-Position", std::to_string(res->position));
    return resp;
  });
}

}  // namespace certctl::gateways::rest
