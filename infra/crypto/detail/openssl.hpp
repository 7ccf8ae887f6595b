#pragma once
/// PRIVATE to infra/crypto: include only from .cpp files of this folder, never from a public
/// header. Owning handles for OpenSSL objects and the helpers the wrappers share.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <string_view>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto::detail {

/// One deleter for every handle type, so `ossl_ptr<X509>` picks the right free function.
struct ossl_free {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
  void operator()(X509_NAME* p) const { X509_NAME_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
  void operator()(STACK_OF(X509_EXTENSION) * p) const {
    sk_X509_EXTENSION_pop_free(p, X509_EXTENSION_free);
  }
  void operator()(GENERAL_NAME* p) const { GENERAL_NAME_free(p); }
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
  // ASN1_INTEGER, ASN1_OCTET_STRING, ASN1_TIME and ASN1_BIT_STRING are all ASN1_STRING.
  void operator()(ASN1_STRING* p) const { ASN1_STRING_free(p); }
  void operator()(BASIC_CONSTRAINTS* p) const { BASIC_CONSTRAINTS_free(p); }
  void operator()(AUTHORITY_KEYID* p) const { AUTHORITY_KEYID_free(p); }
  void operator()(EXTENDED_KEY_USAGE* p) const { EXTENDED_KEY_USAGE_free(p); }
  void operator()(CRL_DIST_POINTS* p) const { CRL_DIST_POINTS_free(p); }
  void operator()(AUTHORITY_INFO_ACCESS* p) const { AUTHORITY_INFO_ACCESS_free(p); }
  void operator()(NAME_CONSTRAINTS* p) const { NAME_CONSTRAINTS_free(p); }
  void operator()(PKCS12* p) const { PKCS12_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
  void operator()(char* p) const { OPENSSL_free(p); }
};

template <class T>
using ossl_ptr = std::unique_ptr<T, ossl_free>;

/// Builds the error for a failed operation: `what`, then every queued OpenSSL error (oldest
/// first). Drains the calling thread's queue so a later failure does not report stale causes.
crypto_error openssl_error(std::string_view what);

/// Empties the queue before an operation whose failure will be reported (OpenSSL sometimes
/// leaves harmless entries behind after successful calls).
void clear_errors();

/// Read-only memory BIO over `data` (which must outlive the BIO).
ossl_ptr<BIO> memory_bio(std::string_view data);

/// Everything written to a memory BIO, as a string.
std::string bio_contents(BIO* bio);

/// Rejects inputs larger than `limit` with "<what>: input of N bytes exceeds the L byte limit".
crypto_result<done> check_size(std::string_view input, size_t limit, std::string_view what);

/// Parses a private key PEM (PKCS#8 plain or encrypted, traditional RSA/EC with or without
/// DEK-Info encryption). Never prompts on a terminal: an encrypted key without a passphrase
/// fails with a message that says so.
crypto_result<ossl_ptr<EVP_PKEY>> load_private_key(std::string_view pem,
                                                   std::string_view passphrase);

/// SubjectPublicKeyInfo DER -> public key.
crypto_result<ossl_ptr<EVP_PKEY>> load_public_key(const bytes& spki_der);

/// First certificate of a PEM text.
crypto_result<ossl_ptr<X509>> load_certificate(std::string_view pem);

/// Algorithm, size and SPKI of a key.
crypto_result<public_key_info> describe_key(EVP_PKEY* key);

/// A fresh key of `type` (null on failure; the OpenSSL error queue says why).
ossl_ptr<EVP_PKEY> new_key(key_type type);

/// The key as unencrypted PKCS#8 PEM plus its public description.
crypto_result<private_key> export_private_key(EVP_PKEY* key, std::string_view what);

/// The digest to sign with for a key: SHA-384 for P-384, SHA-512 for P-521, SHA-256 otherwise
/// (RSA of any size stays on SHA-256 for the widest client support); nullptr for Ed25519,
/// which hashes internally.
const EVP_MD* signing_digest(EVP_PKEY* key);

/// GENERAL_NAMES for a SAN extension or name constraint; validates each entry.
crypto_result<ossl_ptr<GENERAL_NAMES>> make_general_names(const subject_alt_names& sans);

/// One DNS general name. Name constraints may start with '.' ("any subdomain of").
crypto_result<ossl_ptr<GENERAL_NAME>> make_dns_name(std::string_view name, bool constraint);

/// One URI general name.
crypto_result<ossl_ptr<GENERAL_NAME>> make_uri_name(std::string_view uri);

/// Collects DNS, IP, email and URI entries; other kinds are ignored.
void collect_general_names(const GENERAL_NAMES* names, subject_alt_names& out);

/// UTF-8 value of the first entry with `nid` in `name`, or "".
std::string name_entry(const X509_NAME* name, int nid);

/// RFC 2253 rendering, e.g. "CN=example.com,O=Example".
std::string name_to_string(const X509_NAME* name);

/// Seconds since the Unix epoch for an ASN1_TIME.
crypto_result<std::int64_t> time_to_epoch(const ASN1_TIME* t);

/// Upper-case hex of an ASN1_INTEGER's magnitude, two digits per byte; '-' prefix if negative.
std::string integer_to_hex(const ASN1_INTEGER* i);

/// DER of an X509 certificate.
bytes certificate_der(X509* cert);

/// PEM of an X509 certificate.
std::string certificate_pem(X509* cert);

}  // namespace certctl::crypto::detail
