#include "infra/crypto/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// Leading and trailing blanks dropped, inner runs of blanks made one space (the canonical
/// header value rule).
std::string trim_value(const std::string& v) {
  std::string out;
  bool blank = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      blank = !out.empty();
      continue;
    }
    if (blank) out += ' ';
    blank = false;
    out += c;
  }
  return out;
}

std::string as_string(const sha256_digest& d) {
  return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

}  // namespace

sigv4_signature sigv4_sign(const sigv4_request& req, const sigv4_scope& scope,
                           const sigv4_credentials& credentials) {
  // Canonical headers: lower-case names, sorted; values of a repeated name joined by ','.
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& [name, value] : req.headers) {
    const auto n = lower(name);
    const auto v = trim_value(value);
    auto it =
        std::find_if(headers.begin(), headers.end(), [&](const auto& h) { return h.first == n; });
    if (it == headers.end())
      headers.emplace_back(n, v);
    else
      it->second += "," + v;
  }
  std::sort(headers.begin(), headers.end());
  std::string canonical_headers, signed_headers;
  for (const auto& [n, v] : headers) {
    canonical_headers += n + ":" + v + "\n";
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += n;
  }

  sigv4_signature s;
  s.canonical_request = req.method + "\n" + (req.path.empty() ? "/" : req.path) + "\n" + req.query +
                        "\n" + canonical_headers + "\n" + signed_headers + "\n" +
                        to_hex(sha256_of(req.body));
  const std::string date = scope.amz_date.substr(0, 8);
  const std::string credential_scope =
      date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  s.string_to_sign = "AWS4-HMAC-SHA256\n" + scope.amz_date + "\n" + credential_scope + "\n" +
                     to_hex(sha256_of(s.canonical_request));

  const auto k_date = as_string(hmac_sha256("AWS4" + credentials.secret_access_key, date));
  const auto k_region = as_string(hmac_sha256(k_date, scope.region));
  const auto k_service = as_string(hmac_sha256(k_region, scope.service));
  const auto k_signing = as_string(hmac_sha256(k_service, "aws4_request"));
  s.signature = to_hex(hmac_sha256(k_signing, s.string_to_sign));
  s.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" +
                    credential_scope + ", SignedHeaders=" + signed_headers +
                    ", Signature=" + s.signature;
  return s;
}

std::string sigv4_amz_date(long long unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

}  // namespace certctl::crypto
