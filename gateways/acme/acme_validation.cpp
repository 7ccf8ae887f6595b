// http-01 validation (RFC 8555 §8.3) on the server's worker thread: never inside an entity
// or a request handler. The outcome goes back to the authorization as a command.
#include <httplib.h>

#include "gateways/acme/acme_impl.hpp"

namespace certctl::gateways::acme {

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
  httplib::Client client(job.host, opt.http01_port);
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(opt.validation_timeout).count();
  client.set_connection_timeout(static_cast<time_t>(t), 0);
  client.set_read_timeout(static_cast<time_t>(t), 0);
  client.set_follow_location(false);
  std::string error;
  const httplib::Headers host{{"Host", job.identifier}};
  auto res = client.Get("/.well-known/acme-challenge/" + job.token, host);
  if (!res) {
    error = "connection to " + job.host + ":" + std::to_string(opt.http01_port) +
            " failed: " + httplib::to_string(res.error());
  } else if (res->status != 200) {
    error = "http-01 answer had status " + std::to_string(res->status);
  } else {
    std::string body = res->body.substr(0, 1024);
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' '))
      body.pop_back();
    if (body != job.key_authorization) error = "http-01 answer is not the key authorization";
  }
  domain::command cmd;
  cmd.name = "acme_authz.record_validation";
  cmd.entity_id = job.authz_id;
  cmd.body.set("type", "http-01").set("valid", error.empty());
  if (!error.empty()) cmd.body.set("error", error);
  cmd.principal = "system:acme-validator";
  cmd.correlation_id = job.correlation_id;
  deps.runtime.execute("acme_authz", std::move(cmd));
}

}  // namespace certctl::gateways::acme
