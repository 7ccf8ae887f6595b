#pragma once
/// PRIVATE to infra/crypto: include only from .cpp files of this folder, never from a public
/// header. Owning handles for OpenSSL objects and the helpers the wrappers share.

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
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
  void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); }
  void operator()(X509_ALGOR* p) const { X509_ALGOR_free(p); }
  void operator()(X509_PUBKEY* p) const { X509_PUBKEY_free(p); }
  void operator()(X509_CRL* p) const { X509_CRL_free(p); }
  void operator()(X509_REVOKED* p) const { X509_REVOKED_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(OCSP_REQUEST* p) const { OCSP_REQUEST_free(p); }
  void operator()(OCSP_RESPONSE* p) const { OCSP_RESPONSE_free(p); }
  void operator()(OCSP_BASICRESP* p) const { OCSP_BASICRESP_free(p); }
  void operator()(OCSP_CERTID* p) const { OCSP_CERTID_free(p); }
  void operator()(ASN1_SEQUENCE_ANY* p) const { sk_ASN1_TYPE_pop_free(p, ASN1_TYPE_free); }
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

// --- Fast paths (key_der.cpp). OpenSSL 3.0 runs every EVP_PKEY <-> DER conversion through its
// generic encoder/decoder machinery: ~50 µs per i2d_PUBKEY or PEM private key, ~85 µs per
// d2i_PUBKEY, ~135 µs per X509_set_pubkey (an encode plus a decode), most of it method
// fetches under global read-write locks that 16 issuance threads then fight over. The helpers
// below build and take apart the same DER with the ASN.1 templates instead, which cost ~1 µs.

/// Algorithm, size and SPKI of a key (SPKI built without the encoder for EC and Ed25519).
crypto_result<public_key_info> describe_key(EVP_PKEY* key);

/// The same, with the SPKI DER taken as is from `spki` (the key's own encoding in a CSR or
/// certificate) instead of re-encoded.
crypto_result<public_key_info> describe_key(EVP_PKEY* key, const X509_PUBKEY* spki);

/// What set_spki found.
struct spki_summary {
  int base_id = 0;    ///< EVP_PKEY_EC, EVP_PKEY_RSA or EVP_PKEY_ED25519
  bytes public_bits;  ///< the subjectPublicKey BIT STRING's bytes (hashed for key ids)
};

/// Copies a SubjectPublicKeyInfo DER into `dst` (a CSR's or certificate's key field) without
/// decoding it into an EVP_PKEY. Checks what the decode would have: ECDSA (named curve), RSA
/// or Ed25519, and a well-formed key (an EC point on its curve: a cheap check for P-256/384/
/// 521; other keys go through the decoder).
crypto_result<spki_summary> set_spki(X509_PUBKEY* dst, const bytes& spki_der);

/// Unencrypted PKCS#8 PEM of an EC key with a named curve, byte for byte what
/// PEM_write_bio_PrivateKey writes; nullopt for other keys (callers use the encoder).
std::optional<crypto_result<std::string>> ec_private_key_pem(EVP_PKEY* key);

/// PEM armour around DER: base64 in 64-character lines, as PEM_write_bio writes it.
std::string pem_encode(std::string_view label, const std::uint8_t* der, size_t size);

/// Digests fetched once: EVP_sha256() and friends make every use fetch the implementation
/// again (a lookup under a global lock).
const EVP_MD* sha1_md();
const EVP_MD* sha256_md();
const EVP_MD* sha384_md();
const EVP_MD* sha512_md();
const EVP_CIPHER* aes_256_gcm_cipher();

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
