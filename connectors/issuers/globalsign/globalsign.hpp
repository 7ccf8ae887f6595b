#pragma once
/// The GlobalSign Atlas HVCA issuer (type "GlobalSign"): the Atlas Certificate Management API
/// v2, which authenticates twice: a TLS client certificate on every connection (mutual TLS)
/// and a bearer token from POST /login with the account's API key and secret.
///
///   login:   POST /login {api_key, api_secret} -> 200 {access_token}; cached for
///            token_lifetime_seconds (Atlas tokens live 10 minutes), fetched again once when a
///            call answers 401
///   issue:   POST /certificates {validity, subject_dn, san, csr} -> 201, Location:
///            .../certificates/{serial}; then GET /certificates/{serial}: 200 {status: ISSUED,
///            certificate} is the certificate, 404 (not available yet) a pending order
///   order:   GET /certificates/{serial} (ISSUED -> valid, REVOKED -> invalid, 404 -> pending
///            until poll_max_wait_seconds)
///   chain:   GET /trustchain -> [PEM, ...]
///   revoke:  DELETE /certificates/{serial} -> 204
///   test:    login + GET /trustchain
///
/// Order ids are "<serial>@<unix seconds placed>". Atlas has no pending-approval state and no
/// way to withdraw a request: cancel_orders is false. Errors come as {"description"}.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::globalsign {

config_schema globalsign_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_globalsign_issuer(
    const connector_settings& settings, const builtin_context& context);

/// How many times the issuer logged in (tests: the token is cached, and renewed on 401).
int logins_of(const issuer& globalsign_issuer);

}  // namespace certctl::connectors::globalsign

namespace certctl::connectors {
/// Registers type "GlobalSign" (builtin_connectors.def).
certctl::result<done, std::string> register_globalsign_connector(connector_registry& registry,
                                                                 const builtin_context& context);
}  // namespace certctl::connectors
