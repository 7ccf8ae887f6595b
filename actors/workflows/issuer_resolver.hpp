#pragma once
/// Issuance wiring for the local CA's hierarchy (tree mode): the hierarchy itself, whose
/// intermediate records are read from their entities through the runtime, and the resolver
/// that sends a certificate's issuance to the intermediate its issuer names.

#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/workflows/issuance_service.hpp"
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

/// Routes issuance for certificates whose issuer is a GenericCA with config
/// {"intermediate_id": "<ica id>"} to that intermediate (chain up to the root in the issued
/// version; the version's issuer_id is the intermediate's id, which is also the CRL/OCSP path
/// key). An unknown or retiring intermediate fails the job; it never falls back to the root.
/// `runtime` and `hierarchy` must outlive the resolver.
issuer_resolver make_issuer_resolver(entity_runtime& runtime, connectors::ca_hierarchy& hierarchy);

}  // namespace certctl::actors
