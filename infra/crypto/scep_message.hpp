#pragma once
/// SCEP (RFC 8894) PKI messages over OpenSSL's CMS API: opening a client's pkiMessage (a CMS
/// SignedData whose signed attributes carry the SCEP fields and whose content is an
/// EnvelopedData for the RA), building the RA's CertRep, and the degenerate "certs-only"
/// SignedData GetCACert answers with. Every input here is untrusted: size-limited, and every
/// failure comes back as a crypto_error. No OpenSSL type crosses this header.
///
///   client pkiMessage = SignedData{ attrs: messageType, transactionID, senderNonce,
///                                   content: EnvelopedData(to RA){ PKCS#10 | IssuerAndSubject } }
///   CertRep           = SignedData(by RA){ attrs: messageType=3, pkiStatus, [failInfo],
///                                   transactionID, recipientNonce, senderNonce,
///                                   content: EnvelopedData(AES, to the requester's certificate)
///                                            { certs-only SignedData with the issued cert } }

#include <cstdint>
#include <string>
#include <vector>

#include "infra/crypto/crypto_error.hpp"
#include "infra/crypto/x509_types.hpp"

namespace certctl::crypto {

/// Largest pkiMessage accepted (a 4096-bit RSA request is about 5 KiB).
inline constexpr size_t max_scep_message_size = 64 * 1024;

/// RFC 8894 §3.2.1.2 messageType values.
enum class scep_message_type : int {
  cert_rep = 3,
  renewal_req = 17,
  pkcs_req = 19,
  cert_poll = 20,  ///< GetCertInitial
  get_cert = 21,
  get_crl = 22,
};

/// RFC 8894 §3.2.1.3 pkiStatus.
enum class scep_status : int { success = 0, failure = 2, pending = 3 };

/// RFC 8894 §3.2.1.4 failInfo.
enum class scep_fail_info : int {
  bad_alg = 0,
  bad_message_check = 1,
  bad_request = 2,
  bad_time = 3,
  bad_cert_id = 4,
};

/// "badAlg", "badMessageCheck", "badRequest", "badTime", "badCertId".
const char* to_string(scep_fail_info f);

/// A client's pkiMessage after its outer SignedData was parsed. The signed attributes are read
/// before the signature is checked, so a message whose signature fails can still be answered
/// with a CertRep carrying failInfo badMessageCheck (RFC 8894 §3.3.2.2).
struct scep_pki_message {
  int message_type = 0;
  std::string transaction_id;    ///< PrintableString
  std::string sender_nonce;      ///< raw bytes (16 in practice)
  std::string signer_cert_pem;   ///< the certificate the SignerInfo names (self-signed or issued)
  bool signature_valid = false;  ///< the signature verifies with signer_cert_pem's key
  std::string signature_error;   ///< why not, when !signature_valid
  bytes envelope_der;            ///< the encapsulated content: an EnvelopedData
  std::string digest_algorithm;  ///< e.g. "SHA256"
};

/// Parses a pkiMessage (DER) and checks its signature with the certificate it carries.
/// Errors only when the message cannot be read at all (not a SignedData, no SCEP attributes).
crypto_result<scep_pki_message> open_scep_message(const bytes& der);

/// Decrypts the EnvelopedData addressed to the RA (any content cipher OpenSSL knows).
crypto_result<bytes> decrypt_scep_envelope(const bytes& envelope_der,
                                           const std::string& ra_cert_pem,
                                           const std::string& ra_key_pem);

/// (A CSR's challengePassword: csr_challenge_password in csr_attributes.hpp.)

/// True when `cert_pem` verifies against `ca_chain_pem` (any of its certificates as trust
/// anchor) at `at_unix` seconds; the message says why not otherwise.
crypto_result<done> verify_issued_by(const std::string& cert_pem, const std::string& ca_chain_pem,
                                     std::int64_t at_unix);

/// What the RA answers.
struct scep_reply {
  scep_status status = scep_status::failure;
  scep_fail_info fail_info = scep_fail_info::bad_request;  ///< with status failure only
  std::string transaction_id;
  std::string recipient_nonce;  ///< the request's senderNonce
  /// success: the issued certificate (leaf first; RFC 8894 §3.3.2 needs only the leaf), as PEM,
  /// enveloped with AES-256-CBC to `recipient_cert_pem` (the request's signer certificate).
  std::vector<std::string> issued_pem;
  std::string recipient_cert_pem;
  std::string ra_cert_pem;  ///< signs the reply and is carried in it
  std::string ra_key_pem;
};

/// Builds the CertRep (DER). The recipient's key must be RSA (CMS key transport).
crypto_result<bytes> build_scep_cert_rep(const scep_reply& reply);

/// A degenerate certs-only SignedData (DER) holding `certs_pem` in order (GetCACert with an RA,
/// GetNextCACert, and the CertRep's inner content).
crypto_result<bytes> scep_certs_only(const std::vector<std::string>& certs_pem);

/// GetNextCACert (RFC 8894 §4.7): the certs-only structure of `certs_pem` as the content of a
/// SignedData signed by the RA.
crypto_result<bytes> scep_signed_certs_only(const std::vector<std::string>& certs_pem,
                                            const std::string& ra_cert_pem,
                                            const std::string& ra_key_pem);

/// The certificates of a certs-only SignedData (DER), as PEM, in order.
crypto_result<std::vector<std::string>> scep_parse_certs_only(const bytes& der);

/// Client side (probe decoding and tests): what a client puts into a pkiMessage.
struct scep_request_spec {
  scep_message_type type = scep_message_type::pkcs_req;
  std::string transaction_id;
  std::string sender_nonce;  ///< raw bytes
  bytes content;             ///< PKCS#10 DER (or IssuerAndSubject for cert_poll)
  std::string signer_cert_pem;
  std::string signer_key_pem;
  std::vector<std::string> recipients_pem;  ///< the RA certificate(s) to encrypt to
};

/// Builds a client pkiMessage (DER): content enveloped with AES-256-CBC to the recipients,
/// signed with SHA-256 by the signer.
crypto_result<bytes> build_scep_request(const scep_request_spec& spec);

/// What a client reads from a CertRep.
struct scep_cert_rep {
  int status = -1;
  int fail_info = -1;  ///< -1 when absent
  std::string transaction_id;
  std::string recipient_nonce;
  bool signature_valid = false;
  std::vector<std::string> certificates_pem;  ///< decrypted certs-only content (success)
};

/// Opens a CertRep with the requester's certificate and key (tests, probe diagnostics).
crypto_result<scep_cert_rep> open_scep_cert_rep(const bytes& der, const std::string& cert_pem,
                                                const std::string& key_pem);

/// A self-signed certificate for `key_pem` with subject CN=`common_name`, valid for `days`
/// (what a SCEP client signs its first request with; tests).
crypto_result<std::string> self_signed_certificate(const std::string& key_pem,
                                                   const std::string& common_name, int days);

}  // namespace certctl::crypto
