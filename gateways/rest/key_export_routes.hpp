#pragma once
/// Exports that carry a private key (PKCS#12 today). A private key is the one secret a CLM
/// must not hand out freely, so each export is gated by its own permission, audited through
/// the certificate entity before the key leaves, and refused when the server does not hold
/// the key (agent keygen: the agent generated it and keeps it).
///
///   request ─> route rule (admin) ─> may_export_private_key(who, certificate) (403)
///          ─> latest version (404) ─> server-held key matching the leaf (409 otherwise)
///          ─> certificate.record_key_export through the runtime (its error, no export)
///          ─> PKCS#12

#include "actors/runtime/entity_runtime.hpp"
#include "events/json.hpp"
#include "gateways/http/router.hpp"
#include "infra/sql/database.hpp"

namespace certctl::crypto {
class key_store;
}

namespace certctl::gateways::rest {

struct key_export_context {
  sql::database& db;
  crypto::key_store& keys;
  actors::entity_runtime& runtime;
};

/// The access rule of every route that returns a private key: admin only while API keys carry
/// no scopes.
gateways::http::access_rule key_export_access();

/// The per-certificate decision: may `who` take a copy of the private key of `certificate`
/// (its view, with owner_id and team_id)? Admin today; a key scoped to the certificate's owner
/// or team is the extension point (the route rule then admits it and this check decides).
bool may_export_private_key(const gateways::http::principal& who,
                            const events::json_object& certificate);

void add_key_export_routes(gateways::http::router& r, key_export_context& ctx);

}  // namespace certctl::gateways::rest
