#pragma once
/// Issuance wiring: the local CA's hierarchy (tree mode), whose intermediate records are read
/// from their entities through the runtime, and the resolver that sends a certificate's
/// issuance to the registered connector its issuer names.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/local/hierarchy.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "events/result.hpp"

namespace certctl::crypto {
class key_store;
}

namespace certctl::actors {

/// The local CA's hierarchy: its root from `ca_config` (open_local_ca must have succeeded),
/// intermediate keys in `keys`, intermediate records read from their entities (not the read
/// model: a retirement must stop signing at once). `runtime` and `keys` must outlive it.
certctl::result<std::unique_ptr<connectors::ca_hierarchy>, std::string> open_hierarchy(
    const connectors::local_ca_config& ca_config, entity_runtime& runtime, crypto::key_store& keys);

/// Routes issuance through the connector registry: the certificate's issuer entity names a
/// type and a stored config, and the registered connector for them signs (built once per
/// distinct config, secrets opened by `configs`, and kept). For GenericCA that is the local CA,
/// or with {"intermediate_id": "<ica id>"} that intermediate (chain up to the root; the
/// version's issuer_id is the intermediate's id, also the CRL/OCSP path key). A type without a
/// connector, a config that no longer fits its schema, or an unknown or retiring intermediate
/// fails the job with that message; it never falls back to the local CA. Certificates without
/// an issuer id, or naming no existing issuer, keep the default issuer. `runtime` and
/// `configs` must outlive the resolver.
issuer_resolver make_issuer_resolver(entity_runtime& runtime,
                                     const connectors::config_service& configs);

/// The connector of issuer `issuer_id`, built from its entity's type and stored config and kept
/// (one per distinct config, so a Vault token and its renewal loop exist once); nullptr when
/// the id is empty or names no issuer; the message when the connector cannot be made.
/// `reread_after` > 0 (cluster mode): an issuer's entity is read at most that often per node,
/// since each read of an issuer owned by another node is a forwarded command per issuance
/// (docs/cluster.md "Affinity"); an edited issuer then applies after at most that long. 0:
/// read on every lookup.
using issuer_lookup =
    std::function<certctl::result<std::shared_ptr<connectors::issuer>, std::string>(
        const std::string& issuer_id)>;
issuer_lookup make_issuer_lookup(entity_runtime& runtime, const connectors::config_service& configs,
                                 std::chrono::milliseconds reread_after = {});

/// make_issuer_resolver over a lookup shared with others (the CA revocation service).
issuer_resolver make_issuer_resolver(issuer_lookup lookup);

/// The PEM chain of a certificate's current version (read side); nullopt when it has none.
using current_pem_lookup = std::function<std::optional<std::string>(const std::string& cert_id)>;

/// When the CA suggests renewing a certificate (ARI), or nullopt when it has no opinion.
using renewal_window_lookup =
    std::function<certctl::result<std::optional<connectors::renewal_window>, std::string>(
        const std::string& certificate_id)>;

/// Asks the certificate's issuer connector (through `resolver`, as issuance does) for the
/// renewal window of its current version (`pem_of`). Certificates of the default issuer, or
/// whose issuer cannot be built, have no window. Everything must outlive the lookup.
renewal_window_lookup make_renewal_window_lookup(entity_runtime& runtime, issuer_resolver resolver,
                                                 current_pem_lookup pem_of);

}  // namespace certctl::actors
