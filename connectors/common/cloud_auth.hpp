#pragma once
/// The cloud credentials several connectors share, in one place: Google's service-account
/// grant (a JWT signed with the account's key, RFC 7523, exchanged for an OAuth2 access token
/// that is cached until shortly before it expires) and the AWS credential chain (configured
/// keys -> AWS_* environment -> shared credentials/config file -> EC2 instance metadata with
/// IMDSv2), with SigV4 signing of AWS JSON 1.1 requests. Every network call goes through the
/// outbound guard (infra/net, CERTCTL_OUTBOUND_ALLOW_CIDRS), the instance metadata address
/// 169.254.169.254 included.
///
/// Used by the Google CAS and AWS ACM Private CA issuers and the GCP / AWS secret-store
/// discovery sources. Key material stays inside these objects: no message names it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"
#include "infra/net/ip_address.hpp"

namespace certctl::connectors::cloud_auth {

enum class auth_errc {
  invalid_config,  ///< the configuration cannot work (bad key file, unparsable URL, ...)
  rejected,        ///< the token endpoint or metadata service refused the credentials
  unavailable,     ///< transport failure, timeout, 5xx: a retry may succeed
};

struct auth_error {
  auth_errc code = auth_errc::unavailable;
  std::string message;  ///< names the source, never a secret
};

/// "http[s]://host[:port][/base]" split.
struct endpoint {
  bool tls = true;
  std::string host;
  int port = 443;
  std::string base_path;  ///< without a trailing '/'
};

/// invalid_config naming `field` unless `url` is https (or http when `allow_http`) with a host.
certctl::result<endpoint, auth_error> parse_endpoint(const std::string& url,
                                                     const std::string& field,
                                                     bool allow_http = false);

/// "host" or "host:port" when the port is not the scheme's default.
std::string host_header(const endpoint& e);

struct transport_options {
  std::vector<net::cidr> allow;  ///< CERTCTL_OUTBOUND_ALLOW_CIDRS
  std::string ca_bundle_path;    ///< trust anchors; "" = the system store
  std::chrono::milliseconds timeout{30000};
};

struct http_answer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  ///< names lower-cased
  std::string body;
};

/// One request through the outbound guard (HTTPS, or plain HTTP for http endpoints).
/// Transport failures are `unavailable` naming `who` and the failure class, never the address.
certctl::result<http_answer, auth_error> call(
    const endpoint& e, const transport_options& o, const std::string& who,
    const std::string& method, const std::string& path_and_query,
    std::vector<std::pair<std::string, std::string>> headers, const std::string& body = {});

/// Seconds since the epoch; injectable so tests can move time.
using clock_fn = std::function<std::int64_t()>;
std::int64_t system_seconds();

// ---------------------------------------------------------------- Google service accounts

/// The fields of a service-account JSON key file that the grant needs.
struct google_service_account {
  std::string client_email;
  std::string private_key_pem;
  std::string private_key_id;
  std::string token_uri;  ///< default https://oauth2.googleapis.com/token
};

/// invalid_config when `json` is not a service-account key (type, client_email, private_key).
certctl::result<google_service_account, auth_error> parse_google_service_account(
    const std::string& json);

/// Access tokens for one service account and scope, cached until `refresh_margin` before they
/// expire. Thread-safe.
class google_token_source {
 public:
  /// `token_url` overrides the key file's token_uri ("" = the file's).
  google_token_source(google_service_account account, std::string scope, std::string token_url,
                      transport_options options, std::string who,
                      std::chrono::seconds refresh_margin = std::chrono::seconds(300),
                      clock_fn now = system_seconds);

  /// The cached token, or a fresh one from the token endpoint.
  certctl::result<std::string, auth_error> access_token();
  /// Drops the cached token (the API answered 401 with it).
  void forget();
  /// How many JWT grants were exchanged so far.
  int exchanges() const;
  const google_service_account& account() const { return account_; }

 private:
  google_service_account account_;
  std::string scope_, token_url_, who_;
  transport_options options_;
  std::chrono::seconds margin_;
  clock_fn now_;
  mutable std::mutex mutex_;
  std::string token_;
  std::int64_t expires_at_ = 0;
  int exchanges_ = 0;
};

// ---------------------------------------------------------------- AWS credentials

struct aws_credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
  std::int64_t expires_at = 0;  ///< Unix seconds; 0 = does not expire
  std::string source;           ///< "config", "environment", "profile <name>", "instance metadata"
};

struct aws_chain_options {
  aws_credentials configured;    ///< used first when access_key_id is set
  std::string profile;           ///< "" = AWS_PROFILE, else "default"
  std::string credentials_file;  ///< "" = AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials
  std::string config_file;       ///< "" = AWS_CONFIG_FILE, else ~/.aws/config
  /// Instance metadata (IMDSv2). Off when AWS_EC2_METADATA_DISABLED=true. The default address
  /// is link-local: the outbound guard refuses it unless 169.254.169.254/32 is allowed.
  bool use_instance_metadata = true;
  std::string instance_metadata_url = "http://169.254.169.254";
  transport_options transport;  ///< for the metadata service
  /// Environment lookup; tests pass their own. Default: ::getenv.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::chrono::seconds refresh_margin{300};
  clock_fn now = system_seconds;
};

/// The AWS credential chain, resolved in the SDKs' order and cached until the credentials'
/// Expiration (less the refresh margin). Thread-safe.
class aws_credential_chain {
 public:
  explicit aws_credential_chain(aws_chain_options options);
  certctl::result<aws_credentials, auth_error> credentials();
  /// Drops the cache (the service refused the credentials).
  void forget();
  int resolutions() const;

 private:
  certctl::result<aws_credentials, auth_error> resolve() const;
  std::optional<std::string> env(const std::string& name) const;
  certctl::result<std::optional<aws_credentials>, auth_error> from_files() const;
  certctl::result<aws_credentials, auth_error> from_instance_metadata() const;

  aws_chain_options o_;
  mutable std::mutex mutex_;
  std::optional<aws_credentials> cached_;
  int resolutions_ = 0;
};

/// The headers of one SigV4-signed AWS JSON 1.1 request (POST `path` with X-Amz-Target
/// `target`): Content-Type, X-Amz-Date, X-Amz-Target, X-Amz-Security-Token (when the
/// credentials carry one) and Authorization. Host is signed as host_header(e) and left for
/// the transport to send.
std::vector<std::pair<std::string, std::string>> sign_json11(
    const endpoint& e, const std::string& path, const std::string& target, const std::string& body,
    const std::string& region, const std::string& service, const aws_credentials& credentials,
    std::int64_t unix_seconds);

}  // namespace certctl::connectors::cloud_auth
