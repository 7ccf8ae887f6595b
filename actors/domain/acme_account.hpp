#pragma once
/// An ACME account (RFC 8555 §7.1.2, §7.3): the JWS-authenticated principal of every ACME
/// order. Its id is derived from the account key's RFC 7638 thumbprint by the gateway, so
/// new-account with the same key always lands on the same stream (idempotent, race-free).
///
///   register --> valid --update*--> valid --deactivate--> deactivated (final)
///
/// The key itself is stored as its canonical public JWK (never anything private).

#include <memory>
#include <string>

#include "actors/domain/aggregate.hpp"

namespace certctl::domain {

/// Commands: acme_account.register {jwk, thumbprint, contact[], terms_of_service_agreed,
/// profile_id}, acme_account.get, acme_account.update {contact[]}, acme_account.deactivate.
std::unique_ptr<aggregate> make_acme_account(const std::string& id);

}  // namespace certctl::domain
