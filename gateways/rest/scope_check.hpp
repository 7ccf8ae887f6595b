#pragma once
/// Scoped API keys (http::key_scope): a key restricted to some profiles, issuers, teams or
/// owners may change or export only the certificates inside that scope. Unscoped keys pass
/// without any lookup.

#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "gateways/http/router.hpp"

namespace certctl::gateways::rest {

/// 403 naming the field when the request's key is scoped and `certificate` (its
/// certificate_profile_id, issuer_id, team_id, owner_id) lies outside; nullopt when it may act.
std::optional<gateways::http::response> outside_scope(const gateways::http::request_context& c,
                                                      const events::json_object& certificate);

/// The same for certificate `id` as its entity holds it now (an unknown certificate passes:
/// the command itself answers 404).
std::optional<gateways::http::response> certificate_outside_scope(
    actors::entity_runtime& runtime, const gateways::http::request_context& c,
    const std::string& id);

}  // namespace certctl::gateways::rest
