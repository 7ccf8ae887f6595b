#include "gateways/scep/intune.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::scep {
namespace {

constexpr std::int64_t day_s = 86400;

certctl::result<std::vector<intune_validator::anchor>, std::string> load_pool(
    const std::string& path, std::int64_t now) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().size() > crypto::max_chain_pem) return std::string(path + " is too large");
  auto pems = crypto::split_pem_chain(ss.str());
  if (!pems) return path + ": " + pems.error().message;
  std::vector<intune_validator::anchor> pool;
  for (const auto& pem : *pems) {
    auto info = crypto::parse_certificate(pem);
    if (!info) return path + ": " + info.error().message;
    if (info->not_after <= now) continue;  // an expired anchor verifies nothing
    pool.push_back({info->subject_dn, info->not_after,
                    std::string(info->public_key_der.begin(), info->public_key_der.end())});
  }
  if (pool.empty()) return path + ": no certificate that is still valid";
  return pool;
}

}  // namespace

const char* to_string(intune_outcome o) {
  switch (o) {
    case intune_outcome::success:
      return "success";
    case intune_outcome::signature_invalid:
      return "signature_invalid";
    case intune_outcome::claim_mismatch:
      return "claim_mismatch";
    case intune_outcome::expired:
      return "expired";
    case intune_outcome::not_yet_valid:
      return "not_yet_valid";
    case intune_outcome::wrong_audience:
      return "wrong_audience";
    case intune_outcome::replay:
      return "replay";
    case intune_outcome::rate_limited:
      return "rate_limited";
    case intune_outcome::malformed:
      return "malformed";
    case intune_outcome::unknown_version:
      return "unknown_version";
  }
  return "malformed";
}

bool looks_like_intune_token(const std::string& challenge) {
  return std::count(challenge.begin(), challenge.end(), '.') == 2 && challenge.size() > 32;
}

certctl::result<std::unique_ptr<intune_validator>, std::string> intune_validator::make(
    intune_settings settings, std::int64_t now_unix) {
  auto pool = load_pool(settings.trust_path, now_unix);
  if (!pool) return pool.error();
  std::unique_ptr<intune_validator> v(new intune_validator(std::move(settings)));
  v->pool_ = std::make_shared<const std::vector<anchor>>(std::move(*pool));
  v->reloaded_at_ = now_unix;
  return v;
}

certctl::result<std::size_t, std::string> intune_validator::reload(std::int64_t now_unix) {
  auto pool = load_pool(settings_.trust_path, now_unix);
  if (!pool) return pool.error();
  const std::size_t n = pool->size();
  std::lock_guard<std::mutex> lock(mu_);
  pool_ = std::make_shared<const std::vector<anchor>>(std::move(*pool));
  reloaded_at_ = now_unix;
  return n;
}

intune_outcome intune_validator::check(const std::string& token, const std::string& csr_cn,
                                       const std::vector<std::string>& csr_dns, std::int64_t now,
                                       std::string& why) {
  auto result = [&](intune_outcome o, std::string reason) {
    why = std::move(reason);
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_[o];
    return o;
  };
  if (token.size() > max_intune_token) return result(intune_outcome::malformed, "token too large");
  const auto d1 = token.find('.');
  const auto d2 = token.find('.', d1 == std::string::npos ? 0 : d1 + 1);
  if (d1 == std::string::npos || d2 == std::string::npos ||
      token.find('.', d2 + 1) != std::string::npos)
    return result(intune_outcome::malformed, "not a compact JWS");
  const auto header_json = crypto::base64url_decode(token.substr(0, d1));
  const auto payload_json = crypto::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  const auto sig = crypto::base64url_decode(token.substr(d2 + 1));
  if (!header_json || !payload_json || !sig || sig->empty())
    return result(intune_outcome::malformed, "a part is not base64url");
  const auto header = events::json_object::parse(*header_json);
  const auto claims = events::json_object::parse(*payload_json);
  if (!header || !claims) return result(intune_outcome::malformed, "header or claims not JSON");
  const std::string alg = header->str("alg");
  if (alg != "RS256" && alg != "ES256")
    return result(intune_outcome::signature_invalid, "alg '" + alg + "' is not RS256 or ES256");
  crypto::parsed_jws jws;
  jws.header.alg = alg;
  jws.payload = *payload_json;
  jws.signing_input = token.substr(0, d2);
  jws.signature = crypto::bytes(sig->begin(), sig->end());
  std::shared_ptr<const std::vector<anchor>> pool;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pool = pool_;
  }
  bool verified = false;
  for (const auto& a : *pool) {
    if (a.not_after <= now) continue;
    auto key = crypto::jwk_of_spki(crypto::bytes(a.spki_der.begin(), a.spki_der.end()));
    if (key && crypto::verify_jws(jws, *key)) {
      verified = true;
      break;
    }
  }
  if (!verified)
    return result(intune_outcome::signature_invalid, "no trust anchor verifies the signature");
  if (claims->has("ver") && claims->str("ver") != "1")
    return result(intune_outcome::unknown_version, "claim version '" + claims->str("ver") + "'");
  const std::string sub = claims->str("sub"), iss = claims->str("iss");
  if (sub.empty() || iss.empty() || !claims->is_int("iat") || !claims->is_int("exp"))
    return result(intune_outcome::malformed, "sub, iss, iat and exp are required");
  const std::int64_t iat = claims->int64("iat"), exp = claims->int64("exp");
  const std::int64_t skew = settings_.clock_skew_s;
  if (iat > now + skew) return result(intune_outcome::not_yet_valid, "iat is in the future");
  if (claims->is_int("nbf") && claims->int64("nbf") > now + skew)
    return result(intune_outcome::not_yet_valid, "nbf is in the future");
  if (exp + skew <= now) return result(intune_outcome::expired, "the challenge has expired");
  if (now - iat > settings_.challenge_validity_s + skew)
    return result(intune_outcome::expired, "the challenge is older than the validity cap");
  if (!settings_.audience.empty()) {
    std::vector<std::string> auds = claims->is_array("aud")
                                        ? claims->str_array("aud")
                                        : std::vector<std::string>{claims->str("aud")};
    if (std::find(auds.begin(), auds.end(), settings_.audience) == auds.end())
      return result(intune_outcome::wrong_audience, "aud does not name " + settings_.audience);
  }
  if (claims->has("device_name") && claims->str("device_name") != csr_cn)
    return result(intune_outcome::claim_mismatch, "the CSR's CN is not the claimed device_name");
  if (claims->has("dns_names")) {
    const auto allowed = claims->str_array("dns_names");
    const std::set<std::string> ok(allowed.begin(), allowed.end());
    for (const auto& n : csr_dns)
      if (ok.count(n) == 0)
        return result(intune_outcome::claim_mismatch, "the CSR asks for " + n + ", not claimed");
  }
  const std::string replay_key =
      claims->has("jti") ? "jti:" + claims->str("jti") : crypto::to_hex(crypto::sha256_of(token));
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = seen_.begin(); it != seen_.end();)
      it = it->second <= now ? seen_.erase(it) : std::next(it);
    if (seen_.count(replay_key) != 0) {
      ++counters_[intune_outcome::replay];
      why = "the challenge was already used";
      return intune_outcome::replay;
    }
    if (settings_.rate_limit_24h > 0) {
      auto& q = per_device_[iss + "\n" + sub];
      while (!q.empty() && q.front() + day_s <= now) q.pop_front();
      if (q.size() >= static_cast<size_t>(settings_.rate_limit_24h)) {
        ++counters_[intune_outcome::rate_limited];
        why = "device " + sub + " enrolled " + std::to_string(q.size()) + " times in 24h";
        return intune_outcome::rate_limited;
      }
      q.push_back(now);
    }
    seen_[replay_key] = std::max(exp, iat + settings_.challenge_validity_s) + skew + 1;
    ++counters_[intune_outcome::success];
  }
  why.clear();
  return intune_outcome::success;
}

std::string intune_validator::stats_json(std::int64_t now) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string anchors = "[";
  for (const auto& a : *pool_) {
    events::json_object o;
    o.set("subject", a.subject)
        .set("not_after", events::format_rfc3339(a.not_after * 1000000))
        .set("days_to_expiry", static_cast<std::int64_t>((a.not_after - now) / day_s));
    anchors += (anchors.size() > 1 ? "," : "") + o.dump();
  }
  anchors += "]";
  std::string counts = "{";
  for (int i = 0; i <= static_cast<int>(intune_outcome::unknown_version); ++i) {
    const auto o = static_cast<intune_outcome>(i);
    const auto it = counters_.find(o);
    counts += std::string(i ? "," : "") + "\"" + to_string(o) +
              "\":" + std::to_string(it == counters_.end() ? 0 : it->second);
  }
  counts += "}";
  events::json_object s;
  s.set("enabled", true)
      .set("audience", settings_.audience)
      .set("trust_anchor_path", settings_.trust_path)
      .set_raw("trust_anchors", anchors)
      .set("trust_reloaded_at", events::format_rfc3339(reloaded_at_ * 1000000))
      .set_raw("counters", counts)
      .set("replay_cache_size", static_cast<std::int64_t>(seen_.size()))
      .set("per_device_rate_limit_24h", settings_.rate_limit_24h)
      .set("rate_limit_disabled", settings_.rate_limit_24h == 0)
      .set("challenge_validity_seconds", settings_.challenge_validity_s)
      .set("clock_skew_tolerance_seconds", settings_.clock_skew_s);
  return s.dump();
}

}  // namespace certctl::gateways::scep
