#pragma once
/// A client byte stream over a connection the outbound guard (infra/net) made, plain at first
/// and TLS after start_tls(), or TLS from the start: what line protocols with STARTTLS need
/// (SMTP for the email notifier). The TLS side is the one https_client uses: TLS 1.2+, the
/// peer's chain verified against a CA bundle (or the system store), its DNS name or IP address
/// checked against the certificate. OpenSSL stays inside infra/crypto.
///
/// Every read and write is bounded by limits.io_timeout from the moment it starts, so a peer
/// that stops answering ends the call with `timeout`, not a hung worker.

#include <memory>
#include <string>
#include <string_view>

#include "events/result.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::crypto {

class tls_stream {
 public:
  /// Connects to host:port through `guard`; with `implicit_tls` the TLS handshake follows at
  /// once (SMTPS on 465), otherwise the stream stays plain until start_tls().
  static result<tls_stream, net::outbound_error> open(const net::outbound_guard& guard,
                                                      const std::string& host, int port,
                                                      const net::outbound_limits& limits,
                                                      const https_options& options,
                                                      bool implicit_tls);

  ~tls_stream();
  tls_stream(tls_stream&& o) noexcept;
  tls_stream& operator=(tls_stream&& o) noexcept;
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  /// Switches the plain stream to TLS (after the protocol's STARTTLS exchange). Bytes the peer
  /// sent before the handshake and not yet read are discarded: a peer that pipelines plain
  /// text into the TLS phase is attempting response injection (CVE-2011-0411 class).
  result<done, net::outbound_error> start_tls();
  bool secure() const;

  result<done, net::outbound_error> write(std::string_view data);
  /// The next line, without its "\r\n" (a bare "\n" also ends it); too_large past `max_line`
  /// bytes, io_error when the peer closes first.
  result<std::string, net::outbound_error> read_line(std::size_t max_line = 8192);

  /// "address:port" of the peer, for log lines.
  const std::string& peer() const;

 private:
  struct impl;
  explicit tls_stream(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::crypto
