#include "tools/agent/server_client.hpp"

#include <httplib.h>

#include <fstream>

namespace certctl::agent {
namespace {

std::string transport_message(const std::string& url, httplib::Error e) {
  return "no answer from " + url + ": " + httplib::to_string(e);
}

}  // namespace

certctl::result<std::unique_ptr<server_client>, std::string> server_client::open(
    const std::string& server_url, const std::string& api_key, const std::string& ca_bundle) {
  const std::string scheme = "https://";
  if (server_url.rfind(scheme, 0) != 0)
    return std::string("server URL must start with https://: " + server_url);
  std::string rest = server_url.substr(scheme.size());
  std::string base;
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    base = rest.substr(slash);
    rest = rest.substr(0, slash);
    while (!base.empty() && base.back() == '/') base.pop_back();
  }
  if (rest.empty()) return std::string("server URL has no host: " + server_url);
  if (!ca_bundle.empty() && !std::ifstream(ca_bundle).good())
    return std::string("CA bundle " + ca_bundle + " cannot be read");
  auto http = std::make_unique<httplib::Client>(scheme + rest);
  if (!http->is_valid()) return std::string("server URL is not usable: " + server_url);
  if (!ca_bundle.empty()) http->set_ca_cert_path(ca_bundle.c_str());
  http->enable_server_certificate_verification(true);
  http->set_bearer_token_auth(api_key.c_str());
  http->set_connection_timeout(10, 0);
  http->set_read_timeout(60, 0);
  http->set_write_timeout(60, 0);
  http->set_tcp_nodelay(true);
  http->set_keep_alive(true);
  return std::unique_ptr<server_client>(
      new server_client(server_url, std::move(base), std::move(http)));
}

server_client::server_client(std::string url, std::string base,
                             std::unique_ptr<httplib::Client> http)
    : url_(std::move(url)), base_(std::move(base)), http_(std::move(http)) {}

server_client::~server_client() = default;

certctl::result<reply, std::string> server_client::get(const std::string& path) {
  auto r = http_->Get((base_ + path).c_str());
  // A kept-alive connection the server closed while idle (a deployment can outlast its
  // keep-alive timeout) fails the next request: a GET is safe to send again, once.
  if (!r) r = http_->Get((base_ + path).c_str());
  if (!r) return transport_message(url_, r.error());
  return reply{r->status, r->body};
}

certctl::result<reply, std::string> server_client::post(const std::string& path,
                                                        const std::string& json) {
  auto r = http_->Post((base_ + path).c_str(), json, "application/json");
  // The same stale connection: sent again only when the request cannot have reached the
  // server (it failed while connecting or writing), never after a lost answer (Read).
  if (!r && r.error() != httplib::Error::Read)
    r = http_->Post((base_ + path).c_str(), json, "application/json");
  if (!r) return transport_message(url_, r.error());
  return reply{r->status, r->body};
}

}  // namespace certctl::agent
