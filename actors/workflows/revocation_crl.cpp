// revocation_cache: generating, recording and serving CRLs.
#include "actors/workflows/revocation_cache.hpp"
#include "events/time.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::actors {
namespace {

constexpr std::int64_t us_per_s = 1'000'000;
constexpr int max_number_attempts = 8;

}  // namespace

bool revocation_cache::publish_crl(issuer_state& s, std::string* error) {
  const std::int64_t now = clock_.now();
  crypto::crl_content content;
  std::uint64_t covers = 0;  // the revocations this CRL includes; later ones keep it dirty
  {
    std::shared_lock<std::shared_mutex> r(mu_);
    covers = s.crl_changes;
    content.crl_number = s.last_crl_number + 1;
    for (const auto& [serial, c] : s.certs) {
      // RFC 5280 §3.3: an expired certificate may leave the CRL; keeping it would only grow it.
      if (!c.revoked_at_us || c.not_after_us <= now) continue;
      content.revoked.push_back(
          {serial, *c.revoked_at_us / us_per_s, c.reason_code, c.invalidity_date_us / us_per_s});
    }
  }
  content.this_update = now / us_per_s;
  content.next_update = (now + options_.crl_validity.count()) / us_per_s;
  const std::string& issuer_id = s.authority.issuer_id;
  auto fail = [&](std::string message) {
    std::unique_lock<std::shared_mutex> w(mu_);
    s.last_error = message;  // still dirty: the next tick tries again
    if (error) *error = std::move(message);
    return false;
  };

  for (int attempt = 0; attempt < max_number_attempts; ++attempt) {
    auto der = s.authority.sign_crl(content);
    if (!der) return fail("sign CRL: " + der.error().message);
    const crl_publication pub{issuer_id, content.crl_number, content.this_update * us_per_s,
                              content.next_update * us_per_s,
                              static_cast<std::int64_t>(content.revoked.size())};
    if (recorder_) {
      auto recorded = recorder_(issuer_id, pub);
      if (!recorded.ok && recorded.conflict) {
        // Someone (a previous run the read model has not caught up with, another node)
        // used this number: move above both it and whatever the read model knows.
        auto known = reader_->last_crl_number(issuer_id);
        content.crl_number = std::max(content.crl_number + 1, known ? *known + 1 : 0);
        continue;
      }
      if (!recorded.ok) return fail("record CRL number: " + recorded.message);
    }
    auto snap = std::make_shared<crl_snapshot>();
    snap->issuer_id = issuer_id;
    snap->der.assign(der->begin(), der->end());
    snap->crl_number = content.crl_number;
    snap->this_update_us = pub.this_update_us;
    snap->next_update_us = pub.next_update_us;
    snap->revoked_count = pub.revoked_count;
    snap->etag = "\"" + crypto::to_hex(crypto::sha256_of(snap->der)).substr(0, 32) + "\"";
    snap->generated_at_us = now;
    std::unique_lock<std::shared_mutex> w(mu_);
    s.crl = std::move(snap);
    s.crl_covered = covers;
    s.last_crl_number = content.crl_number;
    s.last_error.clear();
    return true;
  }
  return fail("no free CRL number after " + std::to_string(max_number_attempts) + " attempts");
}

std::shared_ptr<const crl_snapshot> revocation_cache::crl(const std::string& issuer_id,
                                                          std::string* error) {
  sync_if_behind();
  issuer_state* found = find_issuer(issuer_id);
  if (found == nullptr) {
    if (error) *error = "unknown issuer " + issuer_id;
    return nullptr;
  }
  issuer_state& s = *found;
  auto current = [&]() -> std::shared_ptr<const crl_snapshot> {
    std::shared_lock<std::shared_mutex> r(mu_);
    if (!s.crl_dirty() && s.crl && clock_.now() < s.crl->next_update_us) return s.crl;
    return nullptr;
  };
  if (auto c = current()) return c;
  std::lock_guard<std::mutex> lock(crl_mu_);
  if (auto c = current()) return c;  // another request generated it meanwhile
  publish_crl(s, error);
  std::shared_lock<std::shared_mutex> r(mu_);
  // A failed regeneration still leaves the last CRL usable until its nextUpdate.
  if (s.crl && clock_.now() < s.crl->next_update_us) return s.crl;
  return nullptr;
}

std::vector<crl_cache_row> revocation_cache::crl_cache_rows() const {
  std::shared_lock<std::shared_mutex> r(mu_);
  std::vector<crl_cache_row> out;
  for (const auto& [id, s] : issuers_) {
    size_t presigned = 0;
    for (const auto& m : s.presigned) presigned += m.size();
    out.push_back({id, s.crl, s.crl_dirty(), s.last_error, s.certs.size(), presigned});
  }
  return out;
}

}  // namespace certctl::actors
