#pragma once
/// An ACME account (RFC 8555 §7.1.2, §7.3): the JWS-authenticated principal of every ACME
/// order. Its id is derived from the account key's RFC 7638 thumbprint by the gateway, so
/// new-account with the same key always lands on the same stream (idempotent, race-free).
///
///   register --> valid --update*|change_key*--> valid --deactivate--> deactivated (final)
///
/// change_key (RFC 8555 §7.3.5) replaces the key; the id stays. An acme_key entity (id derived
/// from the new key's thumbprint like an account id) records which account claimed a key, so
/// new-account finds the account by its current key and no key serves two accounts.
/// The key itself is stored as its canonical public JWK (never anything private).

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

/// Commands: acme_account.register {jwk, thumbprint, contact[], terms_of_service_agreed,
/// profile_id}, acme_account.get, acme_account.update {contact[]}, acme_account.change_key
/// {jwk, thumbprint}, acme_account.deactivate.
std::unique_ptr<aggregate> make_acme_account(const std::string& id);

/// Commands: acme_key.bind {account_id, thumbprint} (conflict when another account holds the
/// key), acme_key.get.
std::unique_ptr<aggregate> make_acme_key(const std::string& id);

/// An EAB key id (RFC 8555 §7.3.4; the HMAC key is in the key store). Commands: acme_eab.create
/// (recording the principal), acme_eab.get, acme_eab.bind {account_id} (conflict when bound to
/// another account).
std::unique_ptr<aggregate> make_acme_eab(const std::string& id);

}  // namespace certctl::domain
