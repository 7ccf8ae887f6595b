#pragma once
/// Parsers of untrusted input, each as a libFuzzer-style entry point. With clang and
/// -DCERTCTL_FUZZ=ON every target becomes a libFuzzer binary; in the normal build one test
/// drives all of them over seeds and deterministic mutations, so CI exercises them too.

#include <cstddef>
#include <cstdint>

namespace certctl::fuzz {

using target_fn = int (*)(const std::uint8_t* data, std::size_t size);

int canonical_json(const std::uint8_t* data, std::size_t size);
int json_object(const std::uint8_t* data, std::size_t size);
int rfc3339(const std::uint8_t* data, std::size_t size);
int csr_pem(const std::uint8_t* data, std::size_t size);
int certificate_pem(const std::uint8_t* data, std::size_t size);
int store_url(const std::uint8_t* data, std::size_t size);
int bearer_and_request_json(const std::uint8_t* data, std::size_t size);
/// REST request bodies as commands carry them (depth cap, iterative parse, json_object).
int rest_body(const std::uint8_t* data, std::size_t size);
/// ACME request bodies: flattened JWS, embedded JWKs, base64url.
int jws(const std::uint8_t* data, std::size_t size);

/// OCSP requests as a relying party sends them (DER OCSPRequest).
int ocsp_request(const std::uint8_t* data, std::size_t size);
/// CRL builder input: lines "serial_hex reason revoked_at invalidity" as the revocation read
/// model hands them over, signed and parsed back.
int crl_builder(const std::uint8_t* data, std::size_t size);

/// DNS responses as the dns-01 validator receives them (fuzz_dns.cpp).
int dns_message(const std::uint8_t* data, std::size_t size);

/// Forwarded cluster commands and their replies as they arrive from Kafka (fuzz_inputs.cpp).
int cluster_command(const std::uint8_t* data, std::size_t size);
/// Header values the HTTP framework interprets itself: Authorization (bearer token),
/// X-Request-Id and X-Certctl-Wait-For-Position.
int http_headers(const std::uint8_t* data, std::size_t size);
/// Requests on the plain-HTTP PKI port, pipelined, through the listener's own HTTP/1.1
/// parser (fuzz_http1.cpp).
int pki_http1_request(const std::uint8_t* data, std::size_t size);
/// The DER certificate a tls-alpn-01 challenge answers with (RFC 8737 checks).
int tls_alpn01_certificate(const std::uint8_t* data, std::size_t size);
/// EST enrollment bodies (base64, PEM, DER, CRLF-broken) down to the CSR (fuzz_est.cpp).
int est_csr_body(const std::uint8_t* data, std::size_t size);

/// SCEP (fuzz_scep.cpp): client pkiMessages (CMS signed + enveloped, decrypted with a fixed RA,
/// challengePassword), certs-only PKCS#7 as the probe reads it, Intune challenge tokens.
int scep_message(const std::uint8_t* data, std::size_t size);
int scep_certs_only(const std::uint8_t* data, std::size_t size);
int intune_token(const std::uint8_t* data, std::size_t size);

}  // namespace certctl::fuzz
