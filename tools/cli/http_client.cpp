#include "tools/cli/http_client.hpp"

#include <httplib.h>
#include <openssl/x509.h>

#include <fstream>
#include <iostream>

namespace certctl::client {
namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

}  // namespace

std::string url_encode(const std::string& s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

result<std::unique_ptr<api_client>, setup_error> api_client::open(
    const connection_options& options) {
  const std::string& url = options.server_url;
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http")
    return setup_error{"--server must be an http(s):// URL, not \"" + url + "\""};
  const auto path_start = url.find('/', scheme_end + 3);
  const std::string authority = url.substr(scheme_end + 3, path_start - (scheme_end + 3));
  std::string base_path = path_start == std::string::npos ? "" : url.substr(path_start);
  while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
  if (authority.empty() || url.find_first_of("?#") != std::string::npos)
    return setup_error{"--server must look like https://host[:port][/path], not \"" + url + "\""};
  const std::string host = authority[0] == '[' ? authority.substr(0, authority.find(']') + 1)
                                               : authority.substr(0, authority.find(':'));

  auto http = std::make_unique<httplib::Client>(scheme + "://" + authority);
  if (!http->is_valid()) return setup_error{"cannot use server URL \"" + url + "\""};
  if (scheme == "https") {
    if (!options.ca_bundle.empty()) {
      // Checked here so a typo in the path is not reported as an unreachable server.
      std::ifstream probe(options.ca_bundle);
      if (!probe) return setup_error{"cannot read CA bundle " + options.ca_bundle, exit_transport};
      http->set_ca_cert_path(options.ca_bundle);
    }
    if (options.insecure) {
      std::cerr << "warning: --insecure: the certificate of " << url
                << " is NOT verified; anyone on the path can impersonate the server and read "
                   "the API key\n";
    }
    http->enable_server_certificate_verification(!options.insecure);
  } else if (!options.api_key.empty() && !is_loopback(host)) {
    std::cerr << "warning: sending the API key to " << url << " over plain http\n";
  }
  http->set_tcp_nodelay(true);
  http->set_connection_timeout(options.timeout_s);
  http->set_read_timeout(options.timeout_s);
  http->set_write_timeout(options.timeout_s);
  if (!options.api_key.empty()) http->set_bearer_token_auth(options.api_key);
  http->set_default_headers({{"Accept", "application/json"}, {"User-Agent", "certctl-cpp"}});
  return std::unique_ptr<api_client>(new api_client(options, base_path, std::move(http)));
}

api_client::api_client(connection_options options, std::string base_path,
                       std::unique_ptr<httplib::Client> http)
    : options_(std::move(options)), base_path_(std::move(base_path)), http_(std::move(http)) {}

api_client::~api_client() = default;

call_result api_client::get(const std::string& path, const query_params& query) {
  std::string target = base_path_ + path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    target += sep + url_encode(k) + "=" + url_encode(v);
    sep = '&';
  }
  auto res = http_->Get(target);
  if (!res) return describe(static_cast<int>(res.error()));
  return api_response{res->status, res->body};
}

call_result api_client::post(const std::string& path, const std::string& json_body) {
  auto res = http_->Post(base_path_ + path, json_body, "application/json");
  if (!res) return describe(static_cast<int>(res.error()));
  return api_response{res->status, res->body};
}

transport_error api_client::describe(int error) const {
  const std::string& url = options_.server_url;
  const std::string timeout = std::to_string(options_.timeout_s) + "s";
  switch (static_cast<httplib::Error>(error)) {
    case httplib::Error::Connection:
      return {"cannot connect to " + url + " (refused, unreachable or timed out after " + timeout +
              ")"};
    case httplib::Error::ConnectionTimeout:
      return {"timed out connecting to " + url + " after " + timeout};
    case httplib::Error::Read:
      return {"no response from " + url + " (connection closed, or nothing within " + timeout +
              ")"};
    case httplib::Error::Write:
      return {"could not send the request to " + url};
    case httplib::Error::SSLConnection:
      return {"TLS handshake with " + url + " failed (is it an https endpoint?)"};
    case httplib::Error::SSLLoadingCerts:
      return {"cannot load " +
              (options_.ca_bundle.empty() ? std::string("the system trust store")
                                          : "CA bundle " + options_.ca_bundle) +
              " to verify " + url};
    case httplib::Error::SSLServerVerification: {
      const long code = http_->get_openssl_verify_result();
      // X509_V_OK with a failed verification means the chain was fine but the name was not.
      if (code == X509_V_OK)
        return {"TLS verification of " + url +
                " failed: the server certificate is not issued for this host name"};
      return {"TLS verification of " + url + " failed: " + X509_verify_cert_error_string(code) +
              " (trusted: " +
              (options_.ca_bundle.empty() ? std::string("the system trust store")
                                          : "CA bundle " + options_.ca_bundle) +
              "; set --ca-bundle or CERTCTL_SERVER_CA_BUNDLE_PATH)"};
    }
    default:
      return {"request to " + url +
              " failed: " + httplib::to_string(static_cast<httplib::Error>(error))};
  }
}

}  // namespace certctl::client
