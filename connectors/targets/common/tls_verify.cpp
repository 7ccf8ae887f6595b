#include "connectors/targets/common/tls_verify.hpp"

#include <thread>

namespace certctl::connectors::targets {

using steady = std::chrono::steady_clock;

certctl::result<verify_endpoint, std::string> parse_endpoint(const std::string& text) {
  verify_endpoint out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return "endpoint '" + text + "' must be [address]:port";
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return "endpoint '" + text + "' must be host:port";
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
    return "endpoint '" + text + "' has no valid port";
  out.port = std::stoi(port);
  return out;
}

namespace {

/// One probe; `permanent` is set when trying again cannot help (the guard refuses the
/// address, the endpoint is malformed), so the caller stops instead of waiting out its timeout.
certctl::result<served, std::string> probe(const net::outbound_guard& guard,
                                           const verify_endpoint& at, bool& permanent) {
  crypto::tls_probe_request req;
  req.host = at.host;
  req.port = at.port;
  req.server_name = at.server_name;
  req.starttls = at.starttls;
  net::outbound_limits limits;
  limits.connect_timeout = std::min(at.timeout, limits.connect_timeout);
  limits.io_timeout = std::min(at.timeout, limits.io_timeout);
  auto got = crypto::probe_tls_certificate(guard, req, limits);
  permanent = !got && (got.error().code == net::outbound_errc::refused_address ||
                       got.error().code == net::outbound_errc::invalid_request);
  // The endpoint is the operator's own configuration, so the detail is shown to them (the
  // generic public message exists for endpoints a remote client named).
  if (!got)
    return "cannot read the certificate served at " + at.host + ":" + std::to_string(at.port) +
           ": " + got.error().log_line();
  return served{got->fingerprint_sha256_hex, got->serial_hex};
}

}  // namespace

certctl::result<served, std::string> probe_endpoint(const net::outbound_guard& guard,
                                                    const verify_endpoint& at) {
  bool permanent = false;
  return probe(guard, at, permanent);
}

certctl::result<served, std::string> wait_until_served(const net::outbound_guard& guard,
                                                       const verify_endpoint& at,
                                                       const std::string& fingerprint) {
  const auto deadline = steady::now() + at.timeout;
  auto pause = std::chrono::milliseconds(50);
  std::string last;
  int matches = 0;
  for (;;) {
    bool permanent = false;
    auto got = probe(guard, at, permanent);
    // During a reload old and new processes may both accept for a moment (nginx's old
    // workers, HAProxy's former worker on a shared port): one match is not yet "serving".
    // Three in a row, each a fresh connection, make a stale answer after return unlikely.
    if (got && got->fingerprint_sha256_hex == fingerprint) {
      if (++matches >= 3) return got;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    matches = 0;
    last = got ? "the endpoint " + at.host + ":" + std::to_string(at.port) +
                     " serves the certificate with SHA-256 fingerprint " +
                     got->fingerprint_sha256_hex + " (serial " + got->serial_hex +
                     "), not the deployed " + fingerprint
               : got.error();
    if (permanent || steady::now() + pause >= deadline) return last;
    // Waiting on a daemon that reloads on its own schedule, not on a timer of ours.
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(1000));
  }
}

}  // namespace certctl::connectors::targets
