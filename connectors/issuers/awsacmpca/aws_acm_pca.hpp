#pragma once
/// The AWS Certificate Manager Private CA issuer (type "AWSACMPCA"), through the ACM PCA API
/// (JSON 1.1 protocol: POST / with X-Amz-Target ACMPrivateCA.<Operation>, SigV4-signed for
/// service "acm-pca"); no AWS SDK.
///
///   issue:     IssueCertificate {CertificateAuthorityArn, Csr (base64 of the PEM),
///              SigningAlgorithm, Validity, TemplateArn?, IdempotencyToken} -> CertificateArn,
///              then GetCertificate once: issued -> the certificate; RequestInProgressException
///              -> a pending order whose id is the certificate ARN
///   order:     GetCertificate {CertificateAuthorityArn, CertificateArn} (the waiter, one poll
///              per get_order_status; a restart loses nothing: the ARN is the whole state)
///   revoke:    RevokeCertificate {CertificateAuthorityArn, CertificateSerial, RevocationReason}
///   CA chain:  GetCertificateAuthorityCertificate -> {Certificate, CertificateChain}
///   self test: GetCertificateAuthorityCertificate; nothing is issued.
///
///   pending --GetCertificate ok--> valid
///      |  \--RequestInProgressException--> pending (poll again)
///      \--RequestFailedException / ResourceNotFoundException--> invalid
///
/// Credentials: the AWS chain (connectors/common/cloud_auth): configured keys, then
/// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, then the shared files
/// (profile), then EC2 instance metadata with IMDSv2, cached until their Expiration. Errors
/// follow the JSON protocol's {"__type", "message"}: ThrottlingException is retried with
/// backoff, a refused signature or unknown key drops the cached credentials and retries once.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::awsacmpca {

inline constexpr const char* type_name = "AWSACMPCA";

config_schema aws_acm_pca_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_aws_acm_pca_issuer(
    const connector_settings& settings, const builtin_context& context);

/// RFC 5280 reason name -> ACM PCA RevocationReason; "" for one ACM PCA lacks (certificateHold,
/// removeFromCRL).
std::string pca_reason(const std::string& rfc5280_reason);

/// "0A1B2C" -> "0a:1b:2c", the form `openssl x509 -text` prints and the API documents.
std::string colon_serial(const std::string& hex);

}  // namespace certctl::connectors::awsacmpca

namespace certctl::connectors {
/// Registers type "AWSACMPCA" (builtin_connectors.def).
certctl::result<done, std::string> register_aws_acm_pca_connector(connector_registry& registry,
                                                                  const builtin_context& context);
}  // namespace certctl::connectors
