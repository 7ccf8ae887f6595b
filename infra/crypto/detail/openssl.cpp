#include "infra/crypto/detail/openssl.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

namespace certctl::crypto::detail {

crypto_error openssl_error(std::string_view what) {
  std::string msg(what);
  bool first = true;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    msg += first ? ": " : "; ";
    first = false;
    const char* reason = ERR_reason_error_string(e);
    const char* lib = ERR_lib_error_string(e);
    if (reason != nullptr) {
      msg += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      msg += buf;
    }
    if (lib != nullptr) {
      msg += " (";
      msg += lib;
      msg += ')';
    }
  }
  return crypto_error{std::move(msg)};
}

void clear_errors() {
  ERR_clear_error();
}

ossl_ptr<BIO> memory_bio(std::string_view data) {
  return ossl_ptr<BIO>(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

crypto_result<done> check_size(std::string_view input, size_t limit, std::string_view what) {
  if (input.empty()) return crypto_error{std::string(what) + ": input is empty"};
  if (input.size() > limit) {
    return crypto_error{std::string(what) + ": input of " + std::to_string(input.size()) +
                        " bytes exceeds the " + std::to_string(limit) + " byte limit"};
  }
  return done{};
}

namespace {

struct passphrase_source {
  std::string_view passphrase;
  bool asked = false;
};

// Supplies the caller's passphrase; returning -1 when there is none stops OpenSSL from falling
// back to prompting on the controlling terminal, which would hang a server.
int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  auto* src = static_cast<passphrase_source*>(user);
  src->asked = true;
  if (src->passphrase.empty() || src->passphrase.size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, src->passphrase.data(), src->passphrase.size());
  return static_cast<int>(src->passphrase.size());
}

}  // namespace

crypto_result<ossl_ptr<EVP_PKEY>> load_private_key(std::string_view pem,
                                                   std::string_view passphrase) {
  // 64 KiB: generous for any private key (an RSA 16384 key is ~13 KiB), keeps parsing bounded.
  if (auto s = check_size(pem, 64 * 1024, "parse private key"); !s) return s.error();
  clear_errors();
  auto bio = memory_bio(pem);
  passphrase_source src{passphrase};
  ossl_ptr<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_callback, &src));
  if (key) return key;
  if (src.asked && passphrase.empty()) {
    clear_errors();
    return crypto_error{"parse private key: the key is encrypted and no passphrase was given"};
  }
  if (src.asked) return openssl_error("parse private key: wrong passphrase or corrupt key");
  return openssl_error("parse private key");
}

crypto_result<ossl_ptr<EVP_PKEY>> load_public_key(const bytes& spki_der) {
  clear_errors();
  const unsigned char* p = spki_der.data();
  ossl_ptr<EVP_PKEY> key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key) return openssl_error("parse public key");
  return key;
}

crypto_result<ossl_ptr<X509>> load_certificate(std::string_view pem) {
  // 1 MiB, the chain limit: callers pass whole bundles and only the first block is read.
  if (auto s = check_size(pem, 1024 * 1024, "parse certificate"); !s) return s.error();
  clear_errors();
  auto bio = memory_bio(pem);
  ossl_ptr<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return openssl_error("parse certificate");
  return cert;
}

const EVP_MD* signing_digest(EVP_PKEY* key) {
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) return nullptr;
  if (id == EVP_PKEY_EC) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits > 384) return sha512_md();
    if (bits > 256) return sha384_md();
  }
  return sha256_md();
}

namespace {

bool printable_ascii(std::string_view s) {
  for (char c : s)
    if (c <= ' ' || c > '~') return false;
  return true;
}

crypto_result<done> validate_dns_name(std::string_view name) {
  const std::string bad = "invalid DNS name \"" + std::string(name) + "\"";
  if (name.empty() || name.size() > 253) return crypto_error{bad + ": length"};
  std::string_view rest = name;
  if (rest.substr(0, 2) == "*.") rest.remove_prefix(2);  // wildcard only as the leftmost label
  size_t label = 0;
  for (char c : rest) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return crypto_error{bad + ": character '" + std::string(1, c) + "'"};
    label = c == '.' ? 0 : label + 1;
    if (label > 63) return crypto_error{bad + ": label longer than 63 characters"};
  }
  if (rest.empty() || rest.front() == '.' || rest.back() == '.' ||
      rest.find("..") != std::string_view::npos)
    return crypto_error{bad + ": empty label"};
  return done{};
}

crypto_result<ossl_ptr<GENERAL_NAME>> make_name(int type, const std::string& value) {
  clear_errors();
  ossl_ptr<GENERAL_NAME> gn(a2i_GENERAL_NAME(nullptr, nullptr, nullptr, type, value.c_str(), 0));
  if (!gn) return openssl_error("encode name \"" + value + "\"");
  return gn;
}

}  // namespace

crypto_result<ossl_ptr<GENERAL_NAME>> make_dns_name(std::string_view name, bool constraint) {
  std::string_view checked = name;
  if (constraint && !checked.empty() && checked.front() == '.') checked.remove_prefix(1);
  if (auto v = validate_dns_name(checked); !v) return v.error();
  return make_name(GEN_DNS, std::string(name));
}

crypto_result<ossl_ptr<GENERAL_NAME>> make_uri_name(std::string_view uri) {
  const auto colon = uri.find(':');
  if (uri.empty() || !printable_ascii(uri) || colon == std::string_view::npos || colon == 0)
    return crypto_error{"invalid URI \"" + std::string(uri) + "\": needs a scheme"};
  return make_name(GEN_URI, std::string(uri));
}

crypto_result<ossl_ptr<GENERAL_NAMES>> make_general_names(const subject_alt_names& sans) {
  ossl_ptr<GENERAL_NAMES> names(sk_GENERAL_NAME_new_null());
  if (!names) return openssl_error("allocate names");
  auto push = [&](crypto_result<ossl_ptr<GENERAL_NAME>> gn) -> crypto_result<done> {
    if (!gn) return gn.error();
    if (sk_GENERAL_NAME_push(names.get(), gn.value().get()) == 0)
      return openssl_error("allocate names");
    gn.value().release();  // the stack owns it now
    return done{};
  };
  for (const auto& d : sans.dns)
    if (auto r = push(make_dns_name(d, false)); !r) return r.error();
  for (const auto& ip : sans.ip) {
    unsigned char buf[16];
    if (inet_pton(AF_INET, ip.c_str(), buf) != 1 && inet_pton(AF_INET6, ip.c_str(), buf) != 1)
      return crypto_error{"invalid IP address \"" + ip + "\""};
    if (auto r = push(make_name(GEN_IPADD, ip)); !r) return r.error();
  }
  for (const auto& e : sans.email) {
    const auto at = e.find('@');
    if (!printable_ascii(e) || at == std::string::npos || at == 0 || at + 1 == e.size() ||
        e.find('@', at + 1) != std::string::npos)
      return crypto_error{"invalid email address \"" + e + "\""};
    if (auto r = push(make_name(GEN_EMAIL, e)); !r) return r.error();
  }
  for (const auto& u : sans.uri)
    if (auto r = push(make_uri_name(u)); !r) return r.error();
  return names;
}

namespace {

std::string asn1_string(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

void collect_general_names(const GENERAL_NAMES* names, subject_alt_names& out) {
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    switch (gn->type) {
      case GEN_DNS:
        out.dns.push_back(asn1_string(gn->d.dNSName));
        break;
      case GEN_EMAIL:
        out.email.push_back(asn1_string(gn->d.rfc822Name));
        break;
      case GEN_URI:
        out.uri.push_back(asn1_string(gn->d.uniformResourceIdentifier));
        break;
      case GEN_IPADD: {
        const ASN1_OCTET_STRING* ip = gn->d.iPAddress;
        char text[INET6_ADDRSTRLEN] = {};
        const int len = ASN1_STRING_length(ip);
        const int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
        if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(ip), text, sizeof text))
          out.ip.emplace_back(text);
        break;
      }
      default:
        break;  // otherName, directoryName, ...: not used by this project's profiles
    }
  }
}

std::string name_entry(const X509_NAME* name, int nid) {
  const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return {};
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return {};
  ossl_ptr<unsigned char> owned(utf8);
  return std::string(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
}

std::string name_to_string(const X509_NAME* name) {
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  // RFC 2253 order and escaping, but UTF-8 passed through rather than \XX-escaped.
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_contents(bio.get());
}

crypto_result<std::int64_t> time_to_epoch(const ASN1_TIME* t) {
  // ASN1_TIME_diff against the epoch avoids timegm() and the process's TZ setting.
  ossl_ptr<ASN1_TIME> epoch(ASN1_TIME_set(nullptr, 0));
  int days = 0;
  int secs = 0;
  if (!epoch || ASN1_TIME_diff(&days, &secs, epoch.get(), t) != 1)
    return openssl_error("convert certificate time");
  return static_cast<std::int64_t>(days) * 86400 + secs;
}

std::string integer_to_hex(const ASN1_INTEGER* i) {
  ossl_ptr<BIGNUM> bn(ASN1_INTEGER_to_BN(i, nullptr));
  if (!bn) return {};
  bytes raw(static_cast<size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), raw.data());
  if (raw.empty()) raw.push_back(0);
  static const char digits[] = "0123456789ABCDEF";
  std::string out = BN_is_negative(bn.get()) ? "-" : "";
  for (auto b : raw) {
    out += digits[b >> 4];
    out += digits[b & 0x0f];
  }
  return out;
}

bytes certificate_der(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  ossl_ptr<unsigned char> owned(der);
  return bytes(der, der + len);
}

std::string certificate_pem(X509* cert) {
  ossl_ptr<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return {};
  return bio_contents(bio.get());
}

}  // namespace certctl::crypto::detail
