#pragma once
/// The agent's one connection to the server: cpp-httplib over TLS 1.2+, the server's chain
/// verified against --ca-bundle (or the system store) and its name checked, the API key as a
/// Bearer token on every request. Used from the agent's single loop thread only.

#include <memory>
#include <string>

#include "events/result.hpp"

namespace httplib {
class Client;
}

namespace certctl::agent {

/// Any answer the server gave, successful or not.
struct reply {
  int status = 0;
  std::string body;
};

class server_client {
 public:
  /// Checks the URL (https only) and the CA bundle file before any request.
  static certctl::result<std::unique_ptr<server_client>, std::string> open(
      const std::string& server_url, const std::string& api_key, const std::string& ca_bundle);
  ~server_client();

  /// `path` starts with "/api/v1/..."; an error is a transport failure (no answer), phrased
  /// with the server URL.
  certctl::result<reply, std::string> get(const std::string& path);
  certctl::result<reply, std::string> post(const std::string& path, const std::string& json);

 private:
  server_client(std::string url, std::string base, std::unique_ptr<httplib::Client> http);
  std::string url_;
  std::string base_;  ///< path prefix of the server URL, without a trailing slash
  std::unique_ptr<httplib::Client> http_;
};

}  // namespace certctl::agent
