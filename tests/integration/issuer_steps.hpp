#pragma once
/// Steps the REST-level issuer tests share (local CA, OpenSSL, step-ca, Vault, the cloud, mTLS
/// and asynchronous commercial CAs): create an issuer and a certificate through it, read its
/// chains, check a chain with `openssl verify`.

#include <string>
#include <vector>

#include "events/json.hpp"
#include "tests/integration/api.hpp"

namespace certctl::integration {

bool contains(const std::string& text, const std::string& part);

/// A server whose outbound guard allows loopback, where the tests' CA stand-ins listen.
server_options loopback_outbound();

/// POST /api/v1/issuers {id, name, type, config}; the answer.
api_response create_issuer(api& client, const std::string& id, const std::string& type,
                           const events::json_object& config);

/// A certificate for `cn` (also its only SAN) through `issuer_id`, created; its id.
std::string create_certificate(api& client, const std::string& cn, const std::string& issuer_id);

/// The pem_chain of every version of certificate `id`.
std::vector<std::string> chains_of(api& client, const std::string& id);

/// `openssl verify -CAfile root_path` accepts the leaf of `pem_chain` (written under `dir`).
void expect_chain_verifies(const std::string& dir, const std::string& pem_chain,
                           const std::string& root_path);

}  // namespace certctl::integration
