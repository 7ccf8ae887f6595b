#include "gateways/est/est_wire.hpp"

#include <cctype>

#include "infra/crypto/jwk.hpp"

namespace certctl::gateways::est {
namespace {

/// Strict standard-alphabet base64 after white space is dropped: length a multiple of 4,
/// padding only at the end. nullopt on any other character.
std::optional<std::string> decode_base64(std::string_view text) {
  std::string clean;
  clean.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isspace(c)) continue;
    if (!(std::isalnum(c) || c == '+' || c == '/' || c == '=')) return std::nullopt;
    clean.push_back(ch);
  }
  if (clean.empty() || clean.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && clean[clean.size() - 1 - pad] == '=') ++pad;
  if (clean.find('=') < clean.size() - pad) return std::nullopt;
  // base64url_decode enforces canonical encoding; map the alphabet and drop the padding.
  for (auto& c : clean) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  clean.resize(clean.size() - pad);
  return crypto::base64url_decode(clean);
}

constexpr std::string_view pem_markers[] = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"};

/// The base64 between a PEM CSR's BEGIN and END lines; nullopt when the markers do not pair.
std::optional<std::string_view> pem_payload(std::string_view body) {
  for (auto label : pem_markers) {
    const std::string begin = "-----BEGIN " + std::string(label) + "-----";
    const std::string end = "-----END " + std::string(label) + "-----";
    const size_t b = body.find(begin);
    if (b == std::string_view::npos) continue;
    const size_t from = b + begin.size();
    const size_t e = body.find(end, from);
    if (e == std::string_view::npos) return std::nullopt;
    return body.substr(from, e - from);
  }
  return std::nullopt;
}

// DER building blocks for CsrAttrs.
void put_length(crypto::bytes& out, size_t n) {
  if (n < 0x80) {
    out.push_back(static_cast<std::uint8_t>(n));
    return;
  }
  crypto::bytes len;
  while (n > 0) {
    len.insert(len.begin(), static_cast<std::uint8_t>(n & 0xff));
    n >>= 8;
  }
  out.push_back(static_cast<std::uint8_t>(0x80 | len.size()));
  out.insert(out.end(), len.begin(), len.end());
}

crypto::bytes tlv(std::uint8_t tag, const crypto::bytes& value) {
  crypto::bytes out{tag};
  put_length(out, value.size());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

crypto::bytes oid(std::initializer_list<std::uint8_t> encoded) {
  return tlv(0x06, crypto::bytes(encoded));
}

crypto::bytes integer(int v) {
  crypto::bytes b;
  auto u = static_cast<unsigned>(v);
  do {
    b.insert(b.begin(), static_cast<std::uint8_t>(u & 0xff));
    u >>= 8;
  } while (u > 0);
  if (b.front() & 0x80) b.insert(b.begin(), 0);
  return tlv(0x02, b);
}

crypto::bytes cat(std::initializer_list<crypto::bytes> parts) {
  crypto::bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

/// Attribute ::= SEQUENCE { type OID, values SET OF ANY } with one value.
crypto::bytes attribute(const crypto::bytes& type, const crypto::bytes& value) {
  return tlv(0x30, cat({type, tlv(0x31, value)}));
}

}  // namespace

body_result decode_csr_body(std::string_view body, std::size_t max_bytes) {
  if (body.empty()) return {{}, "the request body is empty (expected a base64 PKCS#10 CSR)"};
  if (body.size() > max_bytes)
    return {{}, "the request body exceeds " + std::to_string(max_bytes) + " bytes"};
  // Raw DER: a SEQUENCE with a long-form length, which no base64 or PEM text starts with.
  if (body.size() > 2 && static_cast<unsigned char>(body[0]) == 0x30 &&
      (static_cast<unsigned char>(body[1]) & 0x80) != 0)
    return {crypto::bytes(body.begin(), body.end()), ""};
  std::string_view text = body;
  if (body.find("-----BEGIN") != std::string_view::npos) {
    auto payload = pem_payload(body);
    if (!payload) return {{}, "the PEM body holds no CERTIFICATE REQUEST"};
    text = *payload;
  }
  auto der = decode_base64(text);
  if (!der || der->empty()) return {{}, "the request body is not base64 (nor PEM or DER)"};
  return {crypto::bytes(der->begin(), der->end()), ""};
}

std::optional<crypto::bytes> pem_block_der(std::string_view pem, std::string_view label) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----";
  const std::string end = "-----END " + std::string(label) + "-----";
  const size_t b = pem.find(begin);
  if (b == std::string_view::npos) return std::nullopt;
  const size_t e = pem.find(end, b + begin.size());
  if (e == std::string_view::npos) return std::nullopt;
  auto der = decode_base64(pem.substr(b + begin.size(), e - b - begin.size()));
  if (!der) return std::nullopt;
  return crypto::bytes(der->begin(), der->end());
}

std::string base64_body(const crypto::bytes& der) {
  const std::string b64 = crypto::base64_encode(
      std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
  std::string out;
  out.reserve(b64.size() + b64.size() / 32 + 2);
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\r\n";
  return out;
}

std::string multipart_mixed(const std::string& boundary, const std::vector<mime_part>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\n";
    out += "Content-Type: " + p.content_type + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += p.body;
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

std::optional<std::pair<std::string, std::string>> basic_credentials(std::string_view header) {
  size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  constexpr std::string_view scheme = "basic";
  if (header.size() < i + scheme.size() + 1) return std::nullopt;
  for (size_t k = 0; k < scheme.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(header[i + k])) != scheme[k]) return std::nullopt;
  i += scheme.size();
  if (header[i] != ' ') return std::nullopt;
  auto decoded = decode_base64(header.substr(i + 1));
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

crypto::bytes encode_csr_attrs(const csr_attrs_request& request) {
  crypto::bytes items;
  auto add = [&items](const crypto::bytes& b) { items.insert(items.end(), b.begin(), b.end()); };
  if (request.challenge_password)
    add(oid({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x07}));  // 1.2.840.113549.1.9.7
  const auto ec_public_key = oid({0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01});  // 1.2.840.10045.2.1
  for (const auto& [alg, size] : request.key_algorithms) {
    if (alg == "ECDSA") {
      crypto::bytes curve;
      if (size > 384)
        curve = oid({0x2b, 0x81, 0x04, 0x00, 0x23});  // secp521r1
      else if (size > 256)
        curve = oid({0x2b, 0x81, 0x04, 0x00, 0x22});  // secp384r1
      else
        curve = oid({0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07});  // prime256v1
      add(attribute(ec_public_key, curve));
    } else if (alg == "RSA") {
      // rsaEncryption with the minimum modulus size (the form RFC 8951 §3.4 recommends).
      add(attribute(oid({0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01}),
                    integer(size > 0 ? size : 2048)));
    } else if (alg == "Ed25519") {
      add(oid({0x2b, 0x65, 0x70}));  // 1.3.101.112
    }
  }
  if (items.empty()) return {};
  return tlv(0x30, items);
}

}  // namespace certctl::gateways::est
