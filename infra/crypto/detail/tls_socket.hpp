#pragma once
/// What the TLS clients over an outbound-guard connection share (https_client, tls_stream,
/// tls_probe): owners for OpenSSL's context and connection, deadlines on a blocking socket,
/// and the host name without IPv6 brackets. Internal to infra/crypto.

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <string>

#include "infra/net/outbound_guard.hpp"

namespace certctl::crypto::detail {

using steady = std::chrono::steady_clock;

struct ssl_ctx_free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct ssl_free {
  void operator()(SSL* p) const { SSL_free(p); }
};

inline net::outbound_error fail(net::outbound_errc c, std::string detail) {
  return {c, std::move(detail)};
}

/// Bounds the next blocking read or write on `fd` by the time left; false when none is left.
inline bool arm(int fd, steady::time_point deadline) {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(deadline - steady::now()).count();
  if (us <= 0) return false;
  timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return true;
}

/// "[::1]" -> "::1" (SNI and certificate checks take the bare address); others unchanged.
inline std::string bare_host(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace certctl::crypto::detail
