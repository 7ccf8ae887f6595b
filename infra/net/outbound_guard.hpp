#pragma once
/// The outbound request guard: every connection the server opens to a destination someone
/// else named (an ACME identifier, later a connector's URL, a scan target, a webhook) goes
/// through it, so such a name cannot make the server reach its own loopback, the cloud
/// metadata address or the private network behind it (SSRF).
///
///   host ──resolve──> addresses ──every one permitted?──> connect to one of THOSE addresses
///                                  │ no                      (never resolved again: a DNS
///                                  v                          answer that changes between
///                         refused_address                     check and connect cannot win)
///
/// An address is permitted when it is public unicast (see classify) or lies in the operator's
/// allow-list (CERTCTL_OUTBOUND_ALLOW_CIDRS). A name with any refused address is refused as a
/// whole. Errors carry a detail for the server log and one generic text for remote clients,
/// so a failure does not tell a client whether a port is open, closed or filtered.

#include <chrono>
#include <string>
#include <vector>

#include "events/result.hpp"
#include "infra/net/ip_address.hpp"

namespace certctl::net {

struct outbound_limits {
  std::chrono::milliseconds connect_timeout{5000};  ///< all addresses of the host together
  /// The whole exchange after the connect (request written, response read): a peer that
  /// trickles one byte at a time still ends here.
  std::chrono::milliseconds io_timeout{10000};
  std::size_t max_response_bytes = 64 * 1024;  ///< body bytes; reading stops past it
};

enum class outbound_errc {
  invalid_request,  ///< empty host, bad port, a header with CR/LF
  resolve_failed,   ///< no address for the host
  refused_address,  ///< an address outside the policy
  connect_failed,
  timeout,
  too_large,       ///< the response passed max_response_bytes
  protocol_error,  ///< not a well-formed HTTP/1.x response
  io_error,
};

const char* to_string(outbound_errc c);

struct outbound_error {
  outbound_errc code = outbound_errc::io_error;
  std::string detail;  ///< host, address, port and cause: for the server log only

  /// The only text a remote client sees, the same for every failure (no port-scan oracle).
  static const char* public_message();
  /// "<code>: <detail>" for the server log.
  std::string log_line() const;
};

/// A connected TCP socket (blocking, send/receive timeouts set to io_timeout), closed on
/// destruction. Move-only.
class tcp_connection {
 public:
  tcp_connection(int fd, ip_address peer, int port) : fd_(fd), peer_(peer), port_(port) {}
  ~tcp_connection();
  tcp_connection(tcp_connection&& o) noexcept;
  tcp_connection& operator=(tcp_connection&& o) noexcept;
  tcp_connection(const tcp_connection&) = delete;
  tcp_connection& operator=(const tcp_connection&) = delete;

  int fd() const { return fd_; }
  const ip_address& peer() const { return peer_; }  ///< the checked address connected to
  int port() const { return port_; }

 private:
  int fd_ = -1;
  ip_address peer_;
  int port_ = 0;
};

class outbound_guard {
 public:
  /// `allow`: ranges permitted although not public (CERTCTL_OUTBOUND_ALLOW_CIDRS).
  explicit outbound_guard(std::vector<cidr> allow = {}) : allow_(std::move(allow)) {}

  /// Public unicast, or inside an allowed range.
  bool permits(const ip_address& a) const;

  /// Every address of `host` (an IP literal or a name; "[v6]" accepted), all permitted;
  /// refused_address names the first one that is not.
  result<std::vector<ip_address>, outbound_error> resolve(const std::string& host) const;

  /// Resolves once, checks, then connects to the checked addresses in turn within
  /// connect_timeout.
  result<tcp_connection, outbound_error> connect(const std::string& host, int port,
                                                 const outbound_limits& limits) const;

  const std::vector<cidr>& allowed() const { return allow_; }

 private:
  std::vector<cidr> allow_;
};

}  // namespace certctl::net
