#pragma once
/// The `certctl` tool's one connection to the API: cpp-httplib over TLS, verified against the
/// configured CA bundle (or the system store), with the Bearer key and timeouts applied to every
/// request. Transport failures come back as messages that name the URL, because "connection
/// refused" alone does not tell an operator which of their servers is down.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/result.hpp"
#include "tools/cli/args.hpp"

namespace httplib {
class Client;
}

namespace certctl::client {

/// Any answer the server gave, successful or not.
struct api_response {
  int status = 0;
  std::string body;
};

/// No answer: connect, TLS or read failure, already phrased for the operator.
struct transport_error {
  std::string message;
};

/// The client could not be set up; `exit_code` says whose fault it is (usage or transport).
struct setup_error {
  std::string message;
  int exit_code = exit_usage;
};

using query_params = std::vector<std::pair<std::string, std::string>>;
using call_result = result<api_response, transport_error>;

class api_client {
 public:
  /// Validates the URL and the CA bundle before any request is sent.
  static result<std::unique_ptr<api_client>, setup_error> open(const connection_options& options);
  ~api_client();

  /// `path` starts with "/" and is appended to the server URL's own path, if any.
  call_result get(const std::string& path, const query_params& query = {});
  call_result post(const std::string& path, const std::string& json_body);

  const std::string& server_url() const { return options_.server_url; }
  bool has_api_key() const { return !options_.api_key.empty(); }

 private:
  api_client(connection_options options, std::string base_path,
             std::unique_ptr<httplib::Client> http);
  transport_error describe(int error) const;

  connection_options options_;
  std::string base_path_;  ///< URL path prefix without the trailing slash, often empty
  std::unique_ptr<httplib::Client> http_;
};

/// Percent-encodes a path segment or query value (RFC 3986 unreserved characters pass).
std::string url_encode(const std::string& s);

}  // namespace certctl::client
