#pragma once
/// Revocation signing: the CRL of each issuer and a pre-signed OCSP response per certificate,
/// ready to serve, fed from the revocation read model through revocation_reader.hpp (the
/// server adapts projections/revocation_projection.hpp to it).
///
/// Why a service beside the projection, not in it: signatures are neither deterministic nor
/// free, so they cannot live in a projection that must rebuild byte for byte, and a relying
/// party's OCSP request should cost a lookup, not a signature. It signs, so it lives with the
/// workflows (DESIGN §2), not with the read models. The cache follows the read model by
/// `changed_position` (sync()); a change drops the certificate's signed responses at once, so
/// nothing stale is served, and a background thread signs them again.
///
///   OCSP, one CertID, no nonce   lookup of the pre-signed response (signed on a miss, kept)
///   OCSP with a nonce or several CertIDs   signed on demand (a nonce must be echoed, so such a
///                                responses cannot be shared; RFC 5019 clients send none)
///   CRL   generated on the first fetch (or the first revocation), then rebuilt when a
///         revocation is synced and when half its validity has passed; its number is recorded
///         as an issuer event (crl_recorder) before it is served
///
/// Read-your-writes: a request first syncs when the projector is ahead of the cache, so after
/// a client saw its revocation projected (X-Certctl-Wait-For-Position), OCSP and the CRL say so.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/workflows/revocation_reader.hpp"
#include "events/result.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/ocsp.hpp"

namespace certctl::actors {

/// What the cache needs from an issuing CA (the server adapts connectors::local_ca to it).
struct revocation_authority {
  std::string issuer_id;
  std::function<crypto::crypto_result<crypto::bytes>(const crypto::crl_content&)> sign_crl;
  /// The current delegated responder (it may change between calls: a rotation).
  std::function<result<std::shared_ptr<const crypto::ocsp_signer>, std::string>()> responder;
};

/// A signed CRL whose number is to be recorded before it is served. Times in microseconds.
struct crl_publication {
  std::string issuer_id;
  std::int64_t crl_number = 0;
  std::int64_t this_update_us = 0;
  std::int64_t next_update_us = 0;
  std::int64_t revoked_count = 0;
};

/// Records a CRL's number before it is served (issuer.publish_crl). `conflict` when the
/// number was already used, so the cache retries with a higher one.
struct crl_record_result {
  bool ok = false;
  bool conflict = false;
  std::string message;
};
using crl_recorder =
    std::function<crl_record_result(const std::string& issuer_id, const crl_publication& crl)>;

/// Finds an issuer not registered with add_authority (an intermediate CA created at runtime):
/// its authority, or nullopt when there is no such issuer. Called on request threads for ids
/// the cache does not know yet; a found authority is kept for the cache's lifetime.
using authority_resolver =
    std::function<std::optional<revocation_authority>(const std::string& issuer_id)>;

struct revocation_cache_options {
  std::chrono::microseconds crl_validity{std::chrono::hours(24)};  ///< nextUpdate - thisUpdate
  std::chrono::microseconds ocsp_validity{std::chrono::hours(12)};
  std::chrono::milliseconds tick{500};  ///< background loop period (also woken by changes)
  size_t max_presigned = 1'000'000;     ///< pre-signed responses kept, over all issuers
  /// start() returns before the read model is loaded; the thread loads it, and requests that
  /// arrive meanwhile wait for the load (they sync first). The server sets it so that its
  /// time to ready does not grow with the number of certificates (docs/benchmarks.md, "Cold
  /// start"); false: start() loads first and reports a read failure.
  bool load_in_background = false;
};

/// A signed CRL as served.
struct crl_snapshot {
  std::string issuer_id;
  std::string der;
  std::int64_t crl_number = 0;
  std::int64_t this_update_us = 0;
  std::int64_t next_update_us = 0;
  std::int64_t revoked_count = 0;
  std::string etag;  ///< quoted, from the DER's SHA-256
  std::int64_t generated_at_us = 0;
};

/// One issuer's state for GET /api/v1/admin/crl/cache.
struct crl_cache_row {
  std::string issuer_id;
  std::shared_ptr<const crl_snapshot> crl;  ///< null: no CRL generated yet
  bool dirty = false;                       ///< a change waits to be published
  std::string last_error;                   ///< of the last failed generation
  size_t tracked_certificates = 0;
  size_t presigned_responses = 0;
};

class revocation_cache {
 public:
  /// `reader`: the revocation read model and how far it is.
  revocation_cache(std::shared_ptr<revocation_reader> reader, const infra::clock& clock,
                   revocation_cache_options options = {});
  ~revocation_cache();  ///< stops
  revocation_cache(const revocation_cache&) = delete;
  revocation_cache& operator=(const revocation_cache&) = delete;

  /// Before start(): the issuers answered for, and where CRL numbers are recorded (none:
  /// CRLs are served unrecorded, for tests).
  void add_authority(revocation_authority authority);
  void set_crl_recorder(crl_recorder recorder);
  /// Before start(): where issuers not added are looked up on their first request (none: only
  /// the added ones are answered for). The recorder records their CRL numbers too.
  void set_authority_resolver(authority_resolver resolver);

  /// Loads the read model and starts the background thread (CRLs, pre-signing, refresh).
  result<done, std::string> start();
  void stop();

  /// True for an added issuer, and for one the resolver finds (which loads it).
  bool has_issuer(const std::string& issuer_id);

  /// The DER OCSPResponse for a parsed request to `issuer_id` (an unknown one: unauthorized):
  /// good /
  /// revoked / unknown per CertID; `unauthorized` when no CertID names this issuer;
  /// `internalError` / `tryLater` when signing fails.
  std::string ocsp_response(const std::string& issuer_id, const crypto::ocsp_request& request);

  /// The response for one serial (certificate_info::serial_hex form) of `issuer_id`, with the
  /// SHA-1 CertID a client would build: the GET /.well-known/pki/ocsp/{issuer}/{serial} form.
  std::string ocsp_response_for_serial(const std::string& issuer_id, const std::string& serial);

  /// The pre-signed response for a one-CertID request without a nonce when it is ready now,
  /// or null (then ask ocsp_response()). Never syncs, signs or loads an issuer, so an event
  /// loop may call it (gateways/pki/pki_listener); null too while the read model is ahead of
  /// the cache, so read-your-writes holds on this path as well.
  std::shared_ptr<const std::string> presigned_response(const std::string& issuer_id,
                                                        const crypto::ocsp_cert_id& id) const;
  /// The same for the GET form by serial (certificate_info::serial_hex form, SHA-1 CertID).
  std::shared_ptr<const std::string> presigned_response_for_serial(const std::string& issuer_id,
                                                                   const std::string& serial) const;

  /// The CRL of `issuer_id`, generated (and recorded) first when none is current; null with
  /// `error` set when that fails.
  std::shared_ptr<const crl_snapshot> crl(const std::string& issuer_id, std::string* error);

  std::vector<crl_cache_row> crl_cache_rows() const;

  /// Applies read-model changes up to the projector's position now (requests call it when
  /// the projector is ahead; the thread calls it every tick).
  result<done, std::string> sync();

  /// Signs what is waiting (new and changed certificates, responses past half their
  /// validity, a rotated responder) and regenerates due CRLs; the thread's work, public for
  /// tests with a manual clock.
  void refresh();

 private:
  struct cert_state {
    std::int64_t not_after_us = 0;
    std::optional<std::int64_t> revoked_at_us;
    int reason_code = 0;
    std::int64_t invalidity_date_us = 0;
    std::int64_t version = 0;  ///< changed_position: a signed response is for one version
  };
  struct signed_response {
    std::shared_ptr<const std::string> der;
    std::int64_t this_update_us = 0;
    std::int64_t next_update_us = 0;
    std::int64_t version = 0;
    const crypto::ocsp_signer* signer = nullptr;  ///< identity only: detects a rotation
  };
  struct issuer_state {
    revocation_authority authority;
    std::unordered_map<std::string, cert_state> certs;  ///< by serial hex
    /// Pre-signed responses by hash algorithm, then serial.
    std::array<std::unordered_map<std::string, signed_response>, 4> presigned;
    std::shared_ptr<const crl_snapshot> crl;
    /// Revocations synced, and how many of them the served CRL covers. A counter, not a flag:
    /// while a new CRL is being signed and recorded the old one must not look current.
    std::uint64_t crl_changes = 1;  // 1 vs 0: no CRL yet
    std::uint64_t crl_covered = 0;
    bool crl_dirty() const { return crl_changes != crl_covered; }
    std::int64_t last_crl_number = 0;
    std::string last_error;
    std::vector<std::string> to_sign;  ///< serials whose SHA-1 response should be pre-signed
    /// The responder last used; checks a request's issuer hashes on the fast path.
    std::shared_ptr<const crypto::ocsp_signer> signer;
  };

  void sync_if_behind();
  /// The state of `issuer_id`, loaded through the resolver on first use; null: unknown.
  issuer_state* find_issuer(const std::string& issuer_id);
  std::vector<issuer_state*> issuer_states() const;  ///< all loaded, in id order
  void run();
  bool publish_crl(issuer_state& s, std::string* error);  ///< caller holds crl_mu_
  std::optional<crypto::ocsp_single_response> status_of(const issuer_state& s,
                                                        const crypto::ocsp_cert_id& id,
                                                        std::int64_t now_us,
                                                        std::int64_t responder_not_after) const;

  std::shared_ptr<revocation_reader> reader_;
  const infra::clock& clock_;
  revocation_cache_options options_;
  crl_recorder recorder_;
  authority_resolver resolver_;

  mutable std::shared_mutex mu_;  // guards issuers_ (entries are only added) and their contents
  std::map<std::string, issuer_state> issuers_;    // added, then resolved ones; never erased
  size_t presigned_count_ = 0;                     // guarded by mu_
  std::mutex sync_mu_;                             // one sync at a time
  std::int64_t cursor_ = 0;                        // guarded by sync_mu_
  std::atomic<std::int64_t> synced_position_{-1};  // -1: not loaded yet
  std::atomic<bool> started_{false};               // start() ran: the resolver may load
  std::mutex crl_mu_;                              // one CRL generation at a time
  std::mutex refresh_mu_;                          // one refresh() at a time
  std::int64_t last_scan_us_ = 0;                  // guarded by refresh_mu_

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool stopping_ = false;
  bool wake_ = false;
  std::thread thread_;
};

}  // namespace certctl::actors
