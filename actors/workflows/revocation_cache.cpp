// revocation_cache: following the read model and answering OCSP. CRLs are in
// revocation_crl.cpp.
#include "actors/workflows/revocation_cache.hpp"

#include <algorithm>

namespace certctl::actors {
namespace {

constexpr std::int64_t us_per_s = 1'000'000;
constexpr size_t sync_batch = 1000;
constexpr size_t sign_batch = 2000;  ///< responses pre-signed per refresh() before yielding
constexpr std::int64_t scan_every_us = 10 * us_per_s;

size_t index_of(crypto::ocsp_hash h) {
  return static_cast<size_t>(h);
}

std::string error_response(crypto::ocsp_response_status s) {
  const auto der = crypto::ocsp_error_response(s);
  return std::string(der.begin(), der.end());
}

}  // namespace

revocation_cache::revocation_cache(std::shared_ptr<revocation_reader> reader,
                                   const infra::clock& clock, revocation_cache_options options)
    : reader_(std::move(reader)), clock_(clock), options_(options) {}

revocation_cache::~revocation_cache() {
  stop();
}

void revocation_cache::add_authority(revocation_authority authority) {
  const std::string id = authority.issuer_id;
  issuers_[id].authority = std::move(authority);
}

void revocation_cache::set_crl_recorder(crl_recorder recorder) {
  recorder_ = std::move(recorder);
}

void revocation_cache::set_authority_resolver(authority_resolver resolver) {
  resolver_ = std::move(resolver);
}

result<done, std::string> revocation_cache::start() {
  if (!options_.load_in_background)
    if (auto s = sync(); !s) return s.error();
  for (auto& [id, s] : issuers_) {
    // Continue after the last number recorded; publishing retries upwards if the read model
    // lags behind the log.
    auto n = reader_->last_crl_number(id);
    if (!n) return "revocation cache: " + n.error();
    std::unique_lock<std::shared_mutex> w(mu_);
    s.last_crl_number = *n;
  }
  std::lock_guard<std::mutex> lock(wake_mu_);
  if (thread_.joinable()) return std::string("revocation cache: already started");
  stopping_ = false;
  started_.store(true);
  thread_ = std::thread([this] { run(); });  // its first refresh() loads, when in background
  return done{};
}

void revocation_cache::stop() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    stopping_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool revocation_cache::has_issuer(const std::string& issuer_id) {
  return find_issuer(issuer_id) != nullptr;
}

revocation_cache::issuer_state* revocation_cache::find_issuer(const std::string& issuer_id) {
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto it = issuers_.find(issuer_id);
    if (it != issuers_.end()) return &it->second;
  }
  // Before start() only the added issuers are known. Loading follows the sync cursor, so it
  // waits for the first load (which runs in the background with load_in_background).
  if (!resolver_ || !started_.load()) return nullptr;
  if (synced_position_.load() < 0 && !sync()) return nullptr;
  auto authority = resolver_(issuer_id);
  if (!authority) return nullptr;
  auto number = reader_->last_crl_number(issuer_id);
  if (!number) return nullptr;
  // No sync while loading: rows up to the cursor are read here, later ones sync() applies
  // (again, for those read here too, which changes nothing).
  std::lock_guard<std::mutex> lock(sync_mu_);
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    auto it = issuers_.find(issuer_id);
    if (it != issuers_.end()) return &it->second;  // another request loaded it meanwhile
  }
  issuer_state s;
  s.authority = std::move(*authority);
  s.authority.issuer_id = issuer_id;
  s.last_crl_number = *number;
  const std::int64_t now = clock_.now();
  for (std::int64_t after = 0;;) {
    auto rows = reader_->entries_of(issuer_id, after, sync_batch);
    if (!rows) return nullptr;
    for (const auto& r : *rows) {
      cert_state& c = s.certs[r.serial_hex];
      if (r.revoked_at_us && !c.revoked_at_us) ++s.crl_changes;
      c = cert_state{r.not_after_us, r.revoked_at_us, r.reason_code, r.invalidity_date_us,
                     r.changed_position};
      if (c.not_after_us > now) s.to_sign.push_back(r.serial_hex);
    }
    if (rows->size() < sync_batch) break;
    after = rows->back().changed_position;
  }
  std::unique_lock<std::shared_mutex> w(mu_);
  issuer_state& added = issuers_.emplace(issuer_id, std::move(s)).first->second;
  w.unlock();
  {
    std::lock_guard<std::mutex> wl(wake_mu_);  // pre-sign what it issued
    wake_ = true;
    wake_cv_.notify_all();
  }
  return &added;
}

std::vector<revocation_cache::issuer_state*> revocation_cache::issuer_states() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::vector<issuer_state*> out;
  out.reserve(issuers_.size());
  for (auto& [id, s] : issuers_) out.push_back(const_cast<issuer_state*>(&s));
  return out;
}

result<done, std::string> revocation_cache::sync() {
  std::lock_guard<std::mutex> lock(sync_mu_);
  // Read the target first: rows committed up to it are visible to the queries below.
  const std::int64_t target = reader_->projected_position();
  if (synced_position_.load() >= 0 && target <= synced_position_.load()) return done{};
  bool changed = false;
  for (;;) {
    auto rows = reader_->changed_after(cursor_, sync_batch);
    if (!rows) return "revocation cache: " + rows.error();
    if (rows->empty()) break;
    const std::int64_t now = clock_.now();
    std::unique_lock<std::shared_mutex> w(mu_);
    for (const auto& r : *rows) {
      auto it = issuers_.find(r.issuer_id);
      if (it == issuers_.end()) continue;  // another issuer's certificate: not ours to answer
      issuer_state& s = it->second;
      cert_state& c = s.certs[r.serial_hex];
      if (r.revoked_at_us && !c.revoked_at_us) ++s.crl_changes;
      c = cert_state{r.not_after_us, r.revoked_at_us, r.reason_code, r.invalidity_date_us,
                     r.changed_position};
      // Drop what was signed for the old state at once: a miss signs afresh, stale never serves.
      for (auto& m : s.presigned) presigned_count_ -= m.erase(r.serial_hex);
      if (c.not_after_us > now) s.to_sign.push_back(r.serial_hex);
      changed = true;
    }
    cursor_ = rows->back().changed_position;
    if (rows->size() < sync_batch) break;
  }
  synced_position_.store(target);
  if (changed) {
    std::lock_guard<std::mutex> wl(wake_mu_);
    wake_ = true;
    wake_cv_.notify_all();
  }
  return done{};
}

void revocation_cache::sync_if_behind() {
  if (reader_->projected_position() > synced_position_.load()) sync();
}

std::optional<crypto::ocsp_single_response> revocation_cache::status_of(
    const issuer_state& s, const crypto::ocsp_cert_id& id, std::int64_t now_us,
    std::int64_t responder_not_after) const {
  crypto::ocsp_single_response out;
  out.hash = id.hash;
  out.serial_hex = id.serial_hex;
  out.this_update = now_us / us_per_s;
  // A response must not outlive the certificate that signs it.
  out.next_update =
      std::min((now_us + options_.ocsp_validity.count()) / us_per_s, responder_not_after);
  auto it = s.certs.find(id.serial_hex);
  if (it == s.certs.end()) {
    out.status = crypto::ocsp_cert_status::unknown;
    return out;
  }
  if (it->second.revoked_at_us) {
    out.status = crypto::ocsp_cert_status::revoked;
    out.revoked_at = *it->second.revoked_at_us / us_per_s;
    // 0 (unspecified) is left out, as in the CRL (RFC 5280 §5.3.1).
    out.reason_code = it->second.reason_code == 0 ? -1 : it->second.reason_code;
  }
  return out;
}

std::string revocation_cache::ocsp_response(const std::string& issuer_id,
                                            const crypto::ocsp_request& request) {
  using crypto::ocsp_response_status;
  sync_if_behind();
  issuer_state* found = find_issuer(issuer_id);
  if (found == nullptr) return error_response(ocsp_response_status::unauthorized);
  issuer_state& s = *found;
  const std::int64_t now = clock_.now();
  const bool shareable = request.ids.size() == 1 && request.nonce.empty();
  if (shareable) {
    std::shared_lock<std::shared_mutex> r(mu_);
    const auto& id = request.ids.front();
    const auto& m = s.presigned[index_of(id.hash)];
    auto p = m.find(id.serial_hex);
    // The stored response is for our issuer; the request must name our issuer too.
    if (p != m.end() && now < p->second.next_update_us && s.signer && s.signer->issuer_matches(id))
      return *p->second.der;
  }
  auto responder = s.authority.responder();
  if (!responder) return error_response(ocsp_response_status::try_later);
  const auto& signer = responder.value();
  std::vector<crypto::ocsp_single_response> singles;
  std::int64_t version = -1;
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    for (const auto& id : request.ids) {
      // RFC 6960 §2.3: we cannot answer authoritatively for another CA's certificates.
      if (!signer->issuer_matches(id)) return error_response(ocsp_response_status::unauthorized);
      singles.push_back(*status_of(s, id, now, signer->responder_not_after()));
    }
    auto c = s.certs.find(request.ids.front().serial_hex);
    if (c != s.certs.end()) version = c->second.version;
  }
  auto der = signer->sign(singles, request.nonce);
  if (!der) return error_response(ocsp_response_status::internal_error);
  auto body = std::make_shared<const std::string>(der->begin(), der->end());
  if (shareable && version >= 0) {
    std::unique_lock<std::shared_mutex> w(mu_);
    auto c = s.certs.find(request.ids.front().serial_hex);
    auto& m = s.presigned[index_of(request.ids.front().hash)];
    if (c != s.certs.end() && c->second.version == version &&
        (presigned_count_ < options_.max_presigned || m.count(c->first) != 0)) {
      presigned_count_ += m.count(c->first) == 0 ? 1 : 0;
      s.signer = signer;
      m[c->first] = signed_response{body, singles[0].this_update * us_per_s,
                                    singles[0].next_update * us_per_s, version, signer.get()};
    }
  }
  return *body;
}

std::shared_ptr<const std::string> revocation_cache::presigned_response(
    const std::string& issuer_id, const crypto::ocsp_cert_id& id) const {
  if (reader_->projected_position() > synced_position_.load()) return nullptr;
  const std::int64_t now = clock_.now();
  std::shared_lock<std::shared_mutex> r(mu_);
  auto it = issuers_.find(issuer_id);
  if (it == issuers_.end()) return nullptr;
  const issuer_state& s = it->second;
  const auto& m = s.presigned[index_of(id.hash)];
  auto p = m.find(id.serial_hex);
  // As in ocsp_response(): the stored response is for our issuer; the request must be too.
  if (p == m.end() || now >= p->second.next_update_us || !s.signer || !s.signer->issuer_matches(id))
    return nullptr;
  return p->second.der;
}

std::shared_ptr<const std::string> revocation_cache::presigned_response_for_serial(
    const std::string& issuer_id, const std::string& serial) const {
  if (reader_->projected_position() > synced_position_.load()) return nullptr;
  const std::int64_t now = clock_.now();
  std::shared_lock<std::shared_mutex> r(mu_);
  auto it = issuers_.find(issuer_id);
  if (it == issuers_.end()) return nullptr;
  const issuer_state& s = it->second;
  const auto& m = s.presigned[index_of(crypto::ocsp_hash::sha1)];
  auto p = m.find(serial);
  // The CertID is built from our own responder's issuer, so only freshness is left to check.
  if (p == m.end() || now >= p->second.next_update_us || !s.signer) return nullptr;
  return p->second.der;
}

std::string revocation_cache::ocsp_response_for_serial(const std::string& issuer_id,
                                                       const std::string& serial) {
  issuer_state* s = find_issuer(issuer_id);
  if (s == nullptr) return error_response(crypto::ocsp_response_status::unauthorized);
  auto responder = s->authority.responder();
  if (!responder) return error_response(crypto::ocsp_response_status::try_later);
  crypto::ocsp_request request;
  request.ids.push_back(responder.value()->cert_id(crypto::ocsp_hash::sha1, serial));
  return ocsp_response(issuer_id, request);
}

void revocation_cache::refresh() {
  std::lock_guard<std::mutex> serial(refresh_mu_);
  sync_if_behind();
  {
    std::lock_guard<std::mutex> crl_lock(crl_mu_);
    for (issuer_state* p : issuer_states()) {
      issuer_state& s = *p;
      bool due = false;
      {
        std::shared_lock<std::shared_mutex> r(mu_);
        const std::int64_t now = clock_.now();
        // Without a CRL yet, only a revocation makes one due: the first fetch generates it
        // otherwise, so an idle issuer writes no issuer.crl_published at every start.
        due = s.crl ? s.crl_dirty() ||
                          now >= s.crl->this_update_us + options_.crl_validity.count() / 2
                    : s.crl_changes > 1;
      }
      if (due) publish_crl(s, nullptr);
    }
  }
  const std::int64_t now = clock_.now();
  const bool scan = now - last_scan_us_ >= scan_every_us;
  if (scan) last_scan_us_ = now;
  bool more = false;
  for (issuer_state* p : issuer_states()) {
    issuer_state& s = *p;
    auto responder = s.authority.responder();
    if (!responder) continue;  // the slow path reports tryLater; retried next tick
    const auto& signer = responder.value();
    std::vector<std::pair<std::string, std::int64_t>> work;  // serial, version
    std::vector<crypto::ocsp_single_response> singles;
    {
      std::unique_lock<std::shared_mutex> w(mu_);
      s.signer = signer;  // also how a rotation reaches the fast path's issuer check
      auto& sha1 = s.presigned[index_of(crypto::ocsp_hash::sha1)];
      if (scan) {
        // Refresh at half life, and everything a rotated-out responder signed.
        const std::int64_t half = options_.ocsp_validity.count() / 2;
        for (auto& m : s.presigned)
          for (auto e = m.begin(); e != m.end();) {
            const bool stale =
                e->second.signer != signer.get() || now >= e->second.this_update_us + half;
            if (stale && &m == &sha1) s.to_sign.push_back(e->first);
            if (stale && &m != &sha1) {
              e = m.erase(e);  // other hashes are rare: signed again on demand
              --presigned_count_;
            } else {
              ++e;
            }
          }
      }
      while (!s.to_sign.empty() && work.size() < sign_batch) {
        const std::string serial = std::move(s.to_sign.back());
        s.to_sign.pop_back();
        auto c = s.certs.find(serial);
        if (c == s.certs.end() || c->second.not_after_us <= now) continue;
        auto e = sha1.find(serial);
        if (e != sha1.end() && e->second.version == c->second.version &&
            e->second.signer == signer.get() &&
            now < e->second.this_update_us + options_.ocsp_validity.count() / 2)
          continue;  // already fresh (queued twice)
        work.emplace_back(serial, c->second.version);
        singles.push_back(*status_of(s, {crypto::ocsp_hash::sha1, {}, {}, serial}, now,
                                     signer->responder_not_after()));
      }
      more = more || !s.to_sign.empty();
    }
    std::vector<std::shared_ptr<const std::string>> signed_der(work.size());
    for (size_t i = 0; i < work.size(); ++i) {
      auto der = signer->sign({singles[i]});
      if (der) signed_der[i] = std::make_shared<const std::string>(der->begin(), der->end());
    }
    std::unique_lock<std::shared_mutex> w(mu_);
    auto& sha1 = s.presigned[index_of(crypto::ocsp_hash::sha1)];
    for (size_t i = 0; i < work.size(); ++i) {
      auto c = s.certs.find(work[i].first);
      if (!signed_der[i] || c == s.certs.end() || c->second.version != work[i].second) continue;
      const bool fresh = sha1.count(work[i].first) == 0;
      if (fresh && presigned_count_ >= options_.max_presigned) continue;
      presigned_count_ += fresh ? 1 : 0;
      sha1[work[i].first] =
          signed_response{signed_der[i], singles[i].this_update * us_per_s,
                          singles[i].next_update * us_per_s, work[i].second, signer.get()};
    }
  }
  if (more) {
    std::lock_guard<std::mutex> wl(wake_mu_);
    wake_ = true;
  }
}

void revocation_cache::run() {
  std::unique_lock<std::mutex> lock(wake_mu_);
  while (!stopping_) {
    wake_ = false;
    lock.unlock();
    refresh();
    lock.lock();
    wake_cv_.wait_for(lock, options_.tick, [this] { return stopping_ || wake_; });
  }
}

}  // namespace certctl::actors
