// Challenge validation (RFC 8555 §8.3 http-01, §8.4 dns-01, RFC 8737 tls-alpn-01) on the
// server's worker threads: never inside an entity or a request handler, each network step
// bounded by validation_timeout. The outcome goes back to the authorization as a command.
#include <iostream>

#include "gateways/acme/acme_impl.hpp"
#include "gateways/acme/dns01.hpp"
#include "gateways/acme/tls_alpn01.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::gateways::acme {
namespace {

/// The key authorization plus trailing whitespace fits easily; more is not an answer.
constexpr std::size_t http01_max_body = 8 * 1024;

/// Why http-01 fails, in words fit for the client; the cause behind a generic answer goes to
/// `log_detail`. Through the guard: the identifier cannot point the fetch at loopback, the
/// metadata service or the private network unless the operator allowed it.
std::optional<std::string> check_http01(const validation_job& job, const std::string& host,
                                        int port, std::chrono::seconds timeout,
                                        const net::outbound_guard& guard, std::string& log_detail) {
  net::http_get_request req;
  req.host = host;
  req.port = port;
  req.path = "/.well-known/acme-challenge/" + job.token;
  req.host_header = job.identifier;
  net::outbound_limits limits;
  limits.connect_timeout = timeout;
  limits.io_timeout = timeout;
  limits.max_response_bytes = http01_max_body;
  auto res = net::http_get(guard, req, limits);
  if (!res) {
    log_detail = "http-01 " + host + ":" + std::to_string(port) + ": " + res.error().log_line();
    return std::string("http-01: ") + net::outbound_error::public_message();
  }
  if (res->status != 200) return "http-01 answer had status " + std::to_string(res->status);
  std::string body = res->body;
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
  std::string detail;
  const auto timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(opt.validation_timeout);
  try {
    if (job.type == "http-01") {
      error = check_http01(job, opt.http01_host.empty() ? job.identifier : opt.http01_host,
                           opt.http01_port, opt.validation_timeout, opt.outbound, detail);
    } else if (job.type == "dns-01") {
      auto resolver =
          opt.dns_resolver.empty() ? default_resolver() : parse_resolver_address(opt.dns_resolver);
      if (!resolver) {
        error = "dns-01: the server has no DNS resolver";
        detail = "dns-01: no DNS resolver: " + resolver.error().message;
      } else {
        error = check_dns01(job.identifier, job.key_authorization, *resolver, timeout, &detail);
      }
    } else if (job.type == "tls-alpn-01") {
      tls_alpn01_target target{opt.tlsalpn01_host.empty() ? job.identifier : opt.tlsalpn01_host,
                               opt.tlsalpn01_port};
      error = check_tls_alpn01(job.identifier, job.key_authorization, target, timeout, opt.outbound,
                               &detail);
    } else {
      error = "unknown challenge type " + job.type;
    }
  } catch (const std::exception& e) {
    // A worker must survive anything a peer sends; the authorization just fails.
    error = "validation failed";
    detail = std::string("exception: ") + e.what();
  }
  if (!detail.empty()) {
    const std::string line =
        "acme validation " + job.authz_id + " (" + job.identifier + "): " + detail;
    if (deps.log)
      deps.log(line);
    else
      std::cerr << "certctl: " << line << std::endl;
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
