#pragma once
/// An SMTP submission client (RFC 5321, RFC 6409) for the email notifier, and a bounded pool
/// of its sessions:
///
///   connect ─> 220 ─> EHLO ─┬─ starttls: STARTTLS ─> 220 ─> TLS handshake ─> EHLO ─┐
///   (implicit: TLS first)   └─ implicit / none ──────────────────────────────────────┤
///                             AUTH PLAIN | LOGIN (only over TLS) <─────────────────────┘
///                             MAIL FROM ─> RCPT TO (each) ─> DATA ─> 354 ─> message ─> 250
///                             (reused from the pool: RSET first; a dead session is replaced)
///
/// Replies map to connector_errc: 4xx and transport failures are `unavailable` (retry later),
/// 5xx `failed`. Credentials never appear in a message; server replies do (they carry none).

#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/connector_error.hpp"
#include "connectors/notifiers/email/mime_message.hpp"
#include "events/result.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors {

enum class smtp_tls { none, starttls, implicit };

struct smtp_settings {
  std::string host;
  int port = 587;
  smtp_tls tls = smtp_tls::starttls;
  std::string username;  ///< "" = no AUTH
  std::string password;
  std::string helo_name = "localhost";  ///< our name in EHLO
  net::outbound_guard guard;
  net::outbound_limits limits;
  crypto::https_options trust;  ///< CA bundle for the server's certificate
};

class smtp_session;

/// At most `max_connections` sessions at once; idle ones are kept for the next message.
/// Thread-safe: callers beyond the limit wait for a session to come back.
class smtp_pool {
 public:
  smtp_pool(smtp_settings settings, std::size_t max_connections);
  ~smtp_pool();
  smtp_pool(const smtp_pool&) = delete;
  smtp_pool& operator=(const smtp_pool&) = delete;

  /// Sends `message` (envelope from m.from to m.to); answers the server's final reply text.
  certctl::result<std::string, connector_error> send(const mail_message& message,
                                                     const std::string& rendered);

  /// Sessions open now (idle or in use), for tests of the bound.
  std::size_t open_sessions() const;

 private:
  smtp_settings settings_;
  std::size_t max_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::size_t open_ = 0;
  std::vector<std::unique_ptr<smtp_session>> idle_;
};

}  // namespace certctl::connectors
