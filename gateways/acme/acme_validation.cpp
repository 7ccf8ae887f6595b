// Challenge validation (RFC 8555 §8.3 http-01, §8.4 dns-01, RFC 8737 tls-alpn-01) on the
// server's worker threads: never inside an entity or a request handler, each network step
// bounded by validation_timeout. The outcome goes back to the authorization as a command.
#include <httplib.h>

#include "gateways/acme/acme_impl.hpp"
#include "gateways/acme/dns01.hpp"
#include "gateways/acme/tls_alpn01.hpp"

namespace certctl::gateways::acme {
namespace {

std::optional<std::string> check_http01(const validation_job& job, const std::string& host,
                                        int port, std::chrono::seconds timeout) {
  httplib::Client client(host, port);
  const auto t = static_cast<time_t>(timeout.count());
  client.set_connection_timeout(t, 0);
  client.set_read_timeout(t, 0);
  client.set_follow_location(false);
  const httplib::Headers headers{{"Host", job.identifier}};
  auto res = client.Get("/.well-known/acme-challenge/" + job.token, headers);
  if (!res)
    return "connection to " + host + ":" + std::to_string(port) +
           " failed: " + httplib::to_string(res.error());
  if (res->status != 200) return "http-01 answer had status " + std::to_string(res->status);
  std::string body = res->body.substr(0, 1024);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' '))
    body.pop_back();
  if (body != job.key_authorization) return "http-01 answer is not the key authorization";
  return std::nullopt;
}

}  // namespace

void acme_server::impl::validate_loop() {
  for (;;) {
    validation_job job;
    {
      std::unique_lock<std::mutex> lock(validation_mu);
      validation_cv.wait(lock, [&] { return stopping || !validations.empty(); });
      if (stopping) return;
      job = std::move(validations.front());
      validations.pop_front();
    }
    run_validation(job);
  }
}

void acme_server::impl::run_validation(const validation_job& job) {
  std::optional<std::string> error;
  const auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(opt.validation_timeout);
  try {
    if (job.type == "http-01") {
      error = check_http01(job, opt.http01_host.empty() ? job.identifier : opt.http01_host,
                           opt.http01_port, opt.validation_timeout);
    } else if (job.type == "dns-01") {
      auto resolver =
          opt.dns_resolver.empty() ? default_resolver() : parse_resolver_address(opt.dns_resolver);
      if (!resolver)
        error = "dns-01: no DNS resolver: " + resolver.error().message;
      else
        error = check_dns01(job.identifier, job.key_authorization, *resolver, timeout);
    } else if (job.type == "tls-alpn-01") {
      tls_alpn01_target target{opt.tlsalpn01_host.empty() ? job.identifier : opt.tlsalpn01_host,
                               opt.tlsalpn01_port};
      error = check_tls_alpn01(job.identifier, job.key_authorization, target, timeout);
    } else {
      error = "unknown challenge type " + job.type;
    }
  } catch (const std::exception& e) {
    // A worker must survive anything a peer sends; the authorization just fails.
    error = std::string("validation failed: ") + e.what();
  }
  domain::command cmd;
  cmd.name = "acme_authz.record_validation";
  cmd.entity_id = job.authz_id;
  cmd.body.set("type", job.type).set("valid", !error.has_value());
  if (error) cmd.body.set("error", *error);
  cmd.principal = "system:acme-validator";
  cmd.correlation_id = job.correlation_id;
  deps.runtime.execute("acme_authz", std::move(cmd));
}

}  // namespace certctl::gateways::acme
