#pragma once
/// An intermediate CA of an issuer's hierarchy (tree mode), one entity per CA (stream
/// "intermediate-<id>"). The CA's private key is in the encrypted key store under `key_id`;
/// events carry only the certificate, its serial and its constraints.
///
///   create --> active --retire(confirm=false)--> retiring --retire(confirm=true)--> retired
///
/// active    signs leaves and child CAs.
/// retiring  signs nothing new, but keeps serving revocation status (CRL/OCSP) for what it
///           issued; existing child CAs keep working.
/// retired   terminal; refused while any child CA is not retired itself (drain first).
///           Revocation status for its certificates is still served until its own notAfter,
///           since leaves it signed stay valid until then (`revocation_status_until`).
///
/// The parent tracks its unretired children through child_add / child_remove, sent by the
/// create and retire workflows: that makes "no new child under a retiring parent" and "no
/// retirement while children are active" decisions of one entity each, free of races.
///
/// Commands (body fields):
///   intermediate.create   issuer_id, parent_ca_id, name, certificate_pem, serial_number,
///                         not_before, not_after, fingerprint_sha256, key_id (strings),
///                         subject (object), algorithm, path_len_constraint (int or null),
///                         permitted_dns, excluded_dns (string arrays), ocsp_responder_url,
///                         metadata (object), depth (int)
///   intermediate.child_add     child_id; 409 unless active
///   intermediate.child_remove  child_id; no-op when not a child
///   intermediate.retire        confirm (bool), note (string)
///   intermediate.read          decides nothing: the current view, 404 when absent

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_intermediate(const std::string& id);

/// A POST /api/v1/issuers/{id}/intermediates body, checked for shape (not yet against the
/// parent: that needs the parent's certificate).
struct intermediate_request {
  std::string name;
  std::string parent_ca_id;
  std::string common_name;  ///< subject.common_name, else name
  std::string organization;
  std::string organizational_unit;
  std::string algorithm = "ECDSA-P256";
  std::int64_t ttl_days = 1825;
  std::optional<int> path_len;
  std::vector<std::string> permitted_dns;
  std::vector<std::string> excluded_dns;
  std::string ocsp_responder_url;
  std::string metadata_json = "{}";
};

/// Parses and checks the request body. name_constraints is an array of objects
/// {"type": "dns" (optional), "permitted": [..], "excluded": [..]}; entries merge.
/// Root registration (parent_ca_id empty with root_cert_pem/key_driver_id) is refused with a
/// message saying so.
result<intermediate_request, domain_error> parse_intermediate_request(
    const events::json_object& body);

/// Folds one intermediate event into the API view; shared with the read model so both agree.
/// Returns false for event types it does not know.
bool fold_intermediate(events::json_object& view, const std::string& id,
                       const events::recorded_event& e);

}  // namespace certctl::domain
