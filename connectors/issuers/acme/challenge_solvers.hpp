#pragma once
/// How the ACME client proves control of a name (RFC 8555 §8):
///
/// - http01_responder: the built-in HTTP-01 responder, a small HTTP server on the configured
///   address and port answering GET /.well-known/acme-challenge/<token> with the key
///   authorization. One per address:port in the process, shared by every ACME issuer that
///   names it; it starts with the first token and keeps running.
/// - webroot: the operator's web server serves <webroot>/.well-known/acme-challenge/<token>;
///   we write the file (0644, atomically) and remove it afterwards.
/// - run_dns_hook: DNS-01 and DNS-PERSIST-01 through operator scripts, run with an argv and a
///   fixed environment (no shell, so no value can inject a command), a timeout and an output
///   cap. Environment (the reference's names): CERTCTL_DNS_DOMAIN, CERTCTL_DNS_FQDN,
///   CERTCTL_DNS_VALUE, CERTCTL_DNS_TOKEN, plus PATH.

#include <chrono>
#include <memory>
#include <string>

#include "events/result.hpp"

namespace certctl::connectors::acme {

class http01_responder {
 public:
  /// The responder for `address`:`port`, started if needed; an error when the port cannot be
  /// bound (named in the message).
  static certctl::result<std::shared_ptr<http01_responder>, std::string> on(
      const std::string& address, int port);

  virtual ~http01_responder() = default;
  virtual void add(const std::string& token, const std::string& key_authorization) = 0;
  virtual void remove(const std::string& token) = 0;
  virtual int port() const = 0;
};

/// Writes the key authorization to <webroot>/.well-known/acme-challenge/<token>.
certctl::result<done, std::string> webroot_present(const std::string& webroot,
                                                   const std::string& token,
                                                   const std::string& key_authorization);
void webroot_cleanup(const std::string& webroot, const std::string& token);

struct dns_hook_env {
  std::string domain;  ///< the identifier, without "*."
  std::string fqdn;    ///< _acme-challenge.<domain> or _validation-persist.<domain>
  std::string value;   ///< the TXT value
  std::string token;   ///< the ACME challenge token
};

/// Runs `script` (an absolute path, executable) with no arguments and `env`; succeeds when it
/// exits 0 within `timeout`. The error quotes at most the last 500 bytes of its output.
certctl::result<done, std::string> run_dns_hook(const std::string& script, const dns_hook_env& env,
                                                std::chrono::seconds timeout);

/// A token is base64url (RFC 8555 §8.3); anything else must not become a path or a URL.
bool is_valid_token(const std::string& token);

}  // namespace certctl::connectors::acme
