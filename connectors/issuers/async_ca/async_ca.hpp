#pragma once
/// What the asynchronous commercial CAs (DigiCert, Sectigo, and the others of issue 13) share
/// beyond external_ca.hpp: the certificate an order finished with, read from the PEM bundle
/// the CA hands out (the CSR is no longer at hand when a poll finds the order issued; the
/// issuance service checks the key against the stored CSR), and the Retry-After a rate limit
/// answers with.

#include <cstdint>
#include <string>
#include <vector>

#include "connectors/issuers/external_ca.hpp"
#include "connectors/issuers/issuer.hpp"

namespace certctl::connectors::async_ca {

/// Leaf first, then its chain: serial, validity and fingerprint from the leaf; unavailable
/// (naming `who`) when the bundle holds no parsable certificate.
certctl::result<issued_certificate, issuer_error> certificate_from_bundle(const std::string& pem,
                                                                          const std::string& who);

/// Seconds the reply's Retry-After asks for (delta-seconds, or an HTTP-date relative to now),
/// clamped to 1..3600; `fallback` when absent or unreadable.
std::int64_t retry_after_seconds(const external_ca::http_reply& reply, std::int64_t fallback = 60);

/// Microseconds since the epoch, system clock.
std::int64_t now_us();

/// `text` with every character outside [A-Za-z0-9._-] refused: ids the CA gave that go into a
/// URL path.
bool safe_id(const std::string& text);

/// What every asynchronous CA's config holds alike: how long an order may stay pending and how
/// its API is called.
struct common_settings {
  std::int64_t poll_max_wait_seconds = 600;  ///< 10..2592000
  external_ca::http_options http;            ///< timeout_seconds (1..300), ca_bundle_path
};

/// Reads poll_max_wait_seconds, timeout_seconds and ca_bundle_path (with their defaults) and
/// the outbound allow-list; the error names the field and its range.
certctl::result<common_settings, std::string> read_common_settings(
    const events::json_object& config, const std::vector<net::cidr>& outbound_allow);

}  // namespace certctl::connectors::async_ca
