#pragma once
/// An ACME authorization (RFC 8555 §7.1.4): one identifier an account wants a certificate for,
/// with its challenges. In trust_authenticated mode it is created already valid (the account's
/// JWS is the proof; see docs/acme-server.md); in challenge mode it starts pending and a
/// validation worker reports the outcome as a command.
///
///   create(pending) --start_challenge--> pending(challenge processing)
///        |                 --record_validation ok--> valid --deactivate--> deactivated
///        |                 --record_validation failed--> invalid
///   create(valid) ------------------------------------------^

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

/// Commands: acme_authz.create {account_id, order_id, identifier_type, identifier_value,
/// status: "valid"|"pending", expires, token, challenge_types[]}, acme_authz.get,
/// acme_authz.start_challenge {type}, acme_authz.record_validation {type, valid, error},
/// acme_authz.deactivate.
std::unique_ptr<aggregate> make_acme_authz(const std::string& id);

}  // namespace certctl::domain
