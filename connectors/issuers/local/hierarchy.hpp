#pragma once
/// Tree mode of the local CA: intermediate CAs below the local CA's own certificate (the
/// "root" of the hierarchy, named by its issuer id, e.g. "iss-local"), any number of levels
/// deep, each signed by its parent.
///
/// Where things live:
///   - an intermediate's private key: the encrypted key store, id "intermediate-<ca id>";
///   - its certificate, parent and status: the intermediate entity (domain/
///     intermediate.hpp), which this class reads through a ca_lookup callback, so it never
///     sees the event store and always sees the current status;
///   - parsed signers and assembled chains: a cache here (they never change for a CA id).
///
/// Chains are assembled by walking parent ids up to the root: "<ca>, <parent>, ..., <root>,
/// <root's own parents in sub-CA mode>", so `openssl verify -CAfile root.pem -untrusted chain`
/// succeeds with the root as the only trust anchor.
///
/// For the CRL/OCSP services: signing_material_of(id) returns an intermediate's certificate
/// and key whatever its status (a retiring or retired CA still answers for what it issued).
/// Leaves signed by intermediate X carry the CRL DP <base>/.well-known/pki/crl/X and the OCSP
/// URL <base>/.well-known/pki/ocsp/X (or X's ocsp_responder_url); child CA certificates carry
/// their parent's URLs.
///
/// Thread-safe: signing and lookups may run from any number of threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "connectors/issuers/issuer.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/ca_constraints.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"

namespace certctl::crypto {
class key_store;
}

namespace certctl::connectors {

enum class hierarchy_errc {
  invalid,      ///< the request breaks a rule (RFC 5280 constraints, bad names): HTTP 400
  not_found,    ///< no such CA: 404
  conflict,     ///< the CA's state forbids it (retiring, retired): 409
  unavailable,  ///< the CA cannot sign now (expired, key store failure): 503
  internal      ///< a bug or a library failure: 500
};

struct hierarchy_error {
  hierarchy_errc code = hierarchy_errc::internal;
  std::string message;
};

template <class T>
using hierarchy_result = certctl::result<T, hierarchy_error>;

/// The hierarchy's root: the local CA's issuing certificate and its key.
struct root_ca_material {
  std::string id;  ///< the local CA's issuer id; parent_ca_id names the root with it
  std::string cert_pem;
  std::string key_pem;
  std::string key_passphrase;
  std::string chain_pem;  ///< the root certificate, then its own parents (sub-CA mode)
};

/// Loads the root the way open_local_ca does (self-signed mode: key "ca" in
/// <data_dir>/issuers/<issuer_id>/keys.db and ca.pem beside it; sub-CA mode: the configured
/// files). Call it after open_local_ca succeeded with the same config: it creates nothing.
hierarchy_result<root_ca_material> load_root_material(const local_ca_config& config);

/// What the hierarchy needs to know about an intermediate (from its entity).
struct ca_record {
  std::string id;
  std::string parent_id;  ///< another intermediate, or the root's id
  std::string status;     ///< "active", "retiring", "retired"
  std::string cert_pem;
  std::string key_id;
  std::string ocsp_url;  ///< ocsp_responder_url; "" for the default
};

/// Finds an intermediate by id (nullopt: none). Called on the signing threads.
using ca_lookup = std::function<std::optional<ca_record>(const std::string& id)>;

struct child_ca_request {
  std::string id;         ///< the new CA's id (its key id derives from it)
  std::string parent_id;  ///< an intermediate id, or the root's id
  crypto::distinguished_name subject;
  crypto::key_type algorithm = crypto::key_type::ecdsa_p256;
  std::int64_t ttl_us = 0;  ///< capped at the parent's notAfter
  crypto::child_constraints_request constraints;
};

struct child_ca {
  std::string cert_pem;
  std::string serial_hex;
  std::string fingerprint_sha256_hex;
  std::string key_id;  ///< where the key went in the key store
  std::int64_t not_before_us = 0;
  std::int64_t not_after_us = 0;
  crypto::ca_constraints constraints;  ///< as written into the certificate
  int depth = 1;                       ///< 1: signed by the root
};

struct signing_material {
  std::string cert_pem;
  std::string key_pem;    ///< PKCS#8; never log it, never put it in an event
  std::string chain_pem;  ///< the CA first, up to the root
  std::string status;     ///< "active" for the root
};

struct hierarchy_options {
  std::string pki_base_url;             ///< "" -> no CRL DP / OCSP URLs in what we sign
  const infra::clock* clock = nullptr;  ///< nullptr -> system clock; must outlive this
};

class ca_hierarchy {
 public:
  /// Fails when the root key does not load or does not match its certificate.
  static hierarchy_result<std::unique_ptr<ca_hierarchy>> create(root_ca_material root,
                                                                crypto::key_store& keys,
                                                                ca_lookup lookup,
                                                                hierarchy_options options = {});
  ~ca_hierarchy();

  const std::string& root_id() const;

  /// Checks the child's constraints against the parent (fail-closed, RFC 5280 §4.2.1.9 and
  /// §4.2.1.10), generates its key, stores it in the key store and signs the certificate with
  /// the parent's key. The parent must be active.
  hierarchy_result<child_ca> sign_child(const child_ca_request& request);

  /// Removes a key sign_child stored, when the CA it was made for was never recorded.
  void discard_child_key(const std::string& key_id);

  /// The chain of CA `id`: its certificate first, then each parent, up to the root.
  hierarchy_result<std::string> chain_of(const std::string& id);

  /// The constraints in force for certificates CA `id` signs (its own certificate's).
  hierarchy_result<crypto::ca_constraints> constraints_of(const std::string& id);

  /// Certificate, key and chain of CA `id` (any status), for CRL and OCSP signing.
  hierarchy_result<signing_material> signing_material_of(const std::string& id);

  /// Signs a leaf with intermediate `id` (which must be active). Names outside any CA's name
  /// constraints on the path are refused here (policy_violation), not left for relying
  /// parties to find.
  certctl::result<issued_certificate, issuer_error> issue_leaf(const std::string& id,
                                                               const issuance_request& request);

  struct impl;

 private:
  explicit ca_hierarchy(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// An issuer (type "GenericCA") that signs with one intermediate of a hierarchy and returns
/// the chain up to the root; the hierarchy must outlive it.
class intermediate_issuer final : public issuer {
 public:
  intermediate_issuer(ca_hierarchy& hierarchy, std::string intermediate_id);
  std::string_view type() const override { return "GenericCA"; }
  const std::string& id() const override { return id_; }
  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& request) override;
  std::string ca_chain_pem() const override;
  /// CRL and OCSP are served by this server for every intermediate.
  issuer_capabilities capabilities() const override;
  /// Signs a throwaway clientAuth leaf (CN without dots, so no name constraint can refuse it)
  /// with the intermediate's key and drops it.
  certctl::result<issuer_test_report, issuer_error> self_test() override;

 private:
  ca_hierarchy& hierarchy_;
  std::string id_;
};

}  // namespace certctl::connectors
