#pragma once
/// AWS Signature Version 4 (the "AWS4-HMAC-SHA256" Authorization header) for the AWS APIs
/// a connector calls (Secrets Manager discovery). Only what those calls need: header-based
/// signing of one request whose headers the caller lists. No OpenSSL type crosses this header.

#include <string>
#include <utility>
#include <vector>

namespace certctl::crypto {

struct sigv4_credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

struct sigv4_request {
  std::string method = "GET";
  std::string path = "/";  ///< already URI-encoded as sent; "" means "/"
  std::string query;       ///< canonical query string (sorted, encoded), "" when none
  /// The headers to sign, as sent (must include "host" and "x-amz-date"); names are
  /// lower-cased and values trimmed for signing.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct sigv4_scope {
  std::string amz_date;  ///< "20150830T123600Z", the x-amz-date value
  std::string region;    ///< "us-east-1"
  std::string service;   ///< "secretsmanager"
};

struct sigv4_signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      ///< lower-case hex
  std::string authorization;  ///< the full Authorization header value
};

/// Signs `req` (SigV4 §"Create a canonical request" through "Calculate the signature").
sigv4_signature sigv4_sign(const sigv4_request& req, const sigv4_scope& scope,
                           const sigv4_credentials& credentials);

/// "YYYYMMDDTHHMMSSZ" for a Unix time in seconds (UTC).
std::string sigv4_amz_date(long long unix_seconds);

}  // namespace certctl::crypto
