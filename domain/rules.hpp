#pragma once
/// Validation helpers shared by aggregates: clear messages naming the field at fault.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "domain/aggregate.hpp"

namespace certctl::domain {

inline domain_error invalid(std::string m) {
  return {domain_errc::invalid, std::move(m)};
}
inline domain_error conflict(std::string m) {
  return {domain_errc::conflict, std::move(m)};
}
inline domain_error not_found(std::string m) {
  return {domain_errc::not_found, std::move(m)};
}

/// Checks field kinds of a request body: each listed field, when present and not null, must
/// have the given kind ('s' string, 'i' integer, 'b' bool, 'a' array of strings, 'o' object).
std::optional<domain_error> check_fields(const events::json_object& body,
                                         std::initializer_list<std::pair<const char*, char>> spec);

/// Every listed field must be a non-empty string.
std::optional<domain_error> require_strings(const events::json_object& body,
                                            std::initializer_list<const char*> fields);

/// A CA's CRL publication (issuer.publish_crl, intermediate.publish_crl): CRL numbers only grow
/// (RFC 5280 §5.2.3), so a lower or equal number conflicts and the publisher retries higher; no
/// CRL is served before its number is in the log. Decides `event_type` with the CRL's fields.
result<decision, domain_error> decide_crl_publication(const events::json_object& body,
                                                      std::int64_t last_crl_number,
                                                      const std::string& event_type);

/// Ids of entities we create: "<prefix>-" + 16 hex chars, or the caller's id if it is sane.
bool is_valid_id(const std::string& id);

/// Workflow affinity (docs/cluster.md "Affinity"): an entity created for another entity's
/// workflow (a certificate's jobs) names that entity's stream after the marker "__", e.g.
/// "job-1a2b3c4d__certificate-mc-1". The cluster places a stream by its affinity key, so the
/// whole workflow has one owner. Returns `base` + "__" + `root_stream`, or `base` alone when
/// the result would not be a valid id (too long).
std::string affine_id(const std::string& base, const std::string& root_stream);

/// The key a stream is placed by: what follows the last "__" when that is not empty, else the
/// stream id itself. Every node must compute the same.
std::string_view affinity_key(std::string_view stream_id);

}  // namespace certctl::domain
