#pragma once
/// API keys managed through the API (admin only; an extension of the reference API):
///
///   POST   /api/v1/api-keys        {name, role, description?, expires_at?, scopes?}
///                                  -> 201 with the key, shown this once
///   GET    /api/v1/api-keys        the keys, without secrets (no key, no salt, no hash)
///   GET    /api/v1/api-keys/{id}
///   DELETE /api/v1/api-keys/{id}   revokes the key (204); it stops working at once here and
///                                  within about a second on other nodes
///
/// A key is 32 random bytes as hex behind "cck_"; the server keeps SHA-256(salt || key) with a
/// random salt (the `api_key` entity), like the configured keys of CERTCTL_API_KEYS_NAMED.

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"
#include "gateways/rest/managed_keys.hpp"
#include "infra/sql/database.hpp"
#include "projections/projector.hpp"

namespace certctl::gateways::rest {

struct api_key_context {
  actors::entity_runtime& runtime;
  sql::database& db;
  projections::projector& projector;  ///< the directory reads the read model: wait for it
  managed_key_directory& directory;
};

void add_api_key_routes(gateways::http::router& r, api_key_context& ctx);

}  // namespace certctl::gateways::rest
