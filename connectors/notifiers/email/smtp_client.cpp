#include "connectors/notifiers/email/smtp_client.hpp"

#include <cctype>
#include <sstream>

#include "infra/crypto/jwk.hpp"
#include "infra/crypto/tls_stream.hpp"

namespace certctl::connectors {

namespace {

struct reply {
  int code = 0;
  std::vector<std::string> lines;  ///< text after "NNN-" / "NNN "
  std::string text() const {
    std::string t = std::to_string(code);
    for (const auto& l : lines) t += " " + l;
    return t.substr(0, 300);
  }
};

}  // namespace

class smtp_session {
 public:
  static certctl::result<std::unique_ptr<smtp_session>, connector_error> open(
      const smtp_settings& s) {
    auto stream = crypto::tls_stream::open(s.guard, s.host, s.port, s.limits, s.trust,
                                           s.tls == smtp_tls::implicit);
    if (!stream) return transport(s, stream.error());
    std::unique_ptr<smtp_session> session(new smtp_session(s, std::move(*stream)));
    if (auto r = session->greet(); !r) return r.error();
    return session;
  }

  ~smtp_session() {
    // Polite end; the answer does not matter.
    if (alive_) (void)stream_.write("QUIT\r\n");
  }

  /// RSET before reuse: also proves the server has not closed an idle session.
  certctl::result<done, connector_error> reset() {
    auto r = command("RSET");
    if (!r) return r.error();
    if (r->code != 250) return refused("RSET", *r);
    return done{};
  }

  certctl::result<std::string, connector_error> transaction(const mail_message& m,
                                                            const std::string& rendered) {
    auto r = command("MAIL FROM:<" + m.from + ">");
    if (!r) return r.error();
    if (r->code != 250) return refused("MAIL FROM", *r);
    for (const auto& to : m.to) {
      r = command("RCPT TO:<" + to + ">");
      if (!r) return r.error();
      if (r->code != 250 && r->code != 251) return refused("RCPT TO <" + to + ">", *r);
    }
    r = command("DATA");
    if (!r) return r.error();
    if (r->code != 354) return refused("DATA", *r);
    if (auto w = stream_.write(dot_stuffed(rendered) + ".\r\n"); !w)
      return transport(s_, w.error());
    r = read_reply();
    if (!r) return r.error();
    if (r->code != 250) return refused("message", *r);
    return r->text();
  }

 private:
  smtp_session(const smtp_settings& s, crypto::tls_stream stream)
      : s_(s), stream_(std::move(stream)) {}

  static connector_error transport(const smtp_settings& s, const net::outbound_error& e) {
    const auto code = e.code == net::outbound_errc::refused_address ? connector_errc::invalid_config
                                                                    : connector_errc::unavailable;
    return {code, "smtp " + s.host + ":" + std::to_string(s.port) + ": " + e.log_line()};
  }

  connector_error refused(const std::string& step, const reply& r) const {
    return {
        r.code >= 500 ? connector_errc::failed : connector_errc::unavailable,
        "smtp " + s_.host + ":" + std::to_string(s_.port) + ": " + step + " refused: " + r.text()};
  }

  certctl::result<reply, connector_error> read_reply() {
    reply out;
    for (int i = 0; i < 100; ++i) {
      auto line = stream_.read_line(4096);
      if (!line) {
        alive_ = false;
        return transport(s_, line.error());
      }
      const std::string& l = *line;
      if (l.size() < 3 || !std::isdigit(static_cast<unsigned char>(l[0])) ||
          !std::isdigit(static_cast<unsigned char>(l[1])) ||
          !std::isdigit(static_cast<unsigned char>(l[2])) ||
          (l.size() > 3 && l[3] != ' ' && l[3] != '-')) {
        alive_ = false;
        return connector_error{connector_errc::unavailable,
                               "smtp " + s_.host + ": malformed reply line"};
      }
      const int code = std::stoi(l.substr(0, 3));
      if (out.code != 0 && code != out.code) {
        alive_ = false;
        return connector_error{connector_errc::unavailable,
                               "smtp " + s_.host + ": inconsistent multi-line reply"};
      }
      out.code = code;
      out.lines.push_back(l.size() > 4 ? l.substr(4) : "");
      if (l.size() == 3 || l[3] == ' ') return out;
    }
    alive_ = false;
    return connector_error{connector_errc::unavailable, "smtp " + s_.host + ": reply too long"};
  }

  certctl::result<reply, connector_error> command(const std::string& line) {
    if (auto w = stream_.write(line + "\r\n"); !w) {
      alive_ = false;
      return transport(s_, w.error());
    }
    return read_reply();
  }

  certctl::result<done, connector_error> ehlo() {
    auto r = command("EHLO " + s_.helo_name);
    if (!r) return r.error();
    if (r->code != 250) return refused("EHLO", *r);
    extensions_.clear();
    for (std::size_t i = 1; i < r->lines.size(); ++i) {
      std::string upper;
      for (char c : r->lines[i])
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      extensions_.push_back(upper);
    }
    return done{};
  }

  bool has_extension(const std::string& name) const {
    for (const auto& e : extensions_)
      if (e == name || e.rfind(name + " ", 0) == 0) return true;
    return false;
  }
  bool has_auth(const std::string& mechanism) const {
    for (const auto& e : extensions_) {
      if (e.rfind("AUTH ", 0) != 0 && e.rfind("AUTH=", 0) != 0) continue;
      std::istringstream words(e.substr(5));
      for (std::string w; words >> w;)
        if (w == mechanism) return true;
    }
    return false;
  }

  certctl::result<done, connector_error> greet() {
    auto hello = read_reply();
    if (!hello) return hello.error();
    if (hello->code != 220) return refused("greeting", *hello);
    if (auto r = ehlo(); !r) return r;
    if (s_.tls == smtp_tls::starttls) {
      // Refuse to continue in clear text when STARTTLS is wanted: a stripped capability is
      // how a downgrade attack looks.
      if (!has_extension("STARTTLS"))
        return connector_error{connector_errc::failed,
                               "smtp " + s_.host + ": server does not offer STARTTLS"};
      auto r = command("STARTTLS");
      if (!r) return r.error();
      if (r->code != 220) return refused("STARTTLS", *r);
      if (auto t = stream_.start_tls(); !t) {
        alive_ = false;
        return transport(s_, t.error());
      }
      if (auto e = ehlo(); !e) return e;  // capabilities may differ after TLS (RFC 3207 §4.2)
    }
    if (!s_.username.empty()) return authenticate();
    return done{};
  }

  certctl::result<done, connector_error> authenticate() {
    if (!stream_.secure())
      return connector_error{connector_errc::invalid_config,
                             "smtp " + s_.host + ": refusing to send credentials without TLS"};
    if (has_auth("PLAIN")) {
      const std::string token = std::string(1, '\0') + s_.username + '\0' + s_.password;
      auto r = command("AUTH PLAIN " + crypto::base64_encode(token));
      if (!r) return r.error();
      if (r->code != 235) return refused("AUTH PLAIN", *r);
      return done{};
    }
    if (has_auth("LOGIN")) {
      auto r = command("AUTH LOGIN");
      if (!r) return r.error();
      if (r->code != 334) return refused("AUTH LOGIN", *r);
      r = command(crypto::base64_encode(s_.username));
      if (!r) return r.error();
      if (r->code != 334) return refused("AUTH LOGIN", *r);
      r = command(crypto::base64_encode(s_.password));
      if (!r) return r.error();
      if (r->code != 235) return refused("AUTH LOGIN", *r);
      return done{};
    }
    return connector_error{connector_errc::failed,
                           "smtp " + s_.host + ": server offers neither AUTH PLAIN nor LOGIN"};
  }

  /// RFC 5321 §4.5.2: a line starting with "." gets another one; every line ends in CRLF.
  static std::string dot_stuffed(const std::string& text) {
    std::string out;
    out.reserve(text.size() + 16);
    bool line_start = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (line_start && c == '.') out += '.';
      if (c == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
      out += c;
      line_start = c == '\n';
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
  }

  const smtp_settings& s_;
  crypto::tls_stream stream_;
  std::vector<std::string> extensions_;
  bool alive_ = true;

  friend class smtp_pool;
};

smtp_pool::smtp_pool(smtp_settings settings, std::size_t max_connections)
    : settings_(std::move(settings)), max_(max_connections == 0 ? 1 : max_connections) {}

smtp_pool::~smtp_pool() = default;

std::size_t smtp_pool::open_sessions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_;
}

certctl::result<std::string, connector_error> smtp_pool::send(const mail_message& message,
                                                              const std::string& rendered) {
  std::unique_ptr<smtp_session> session;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    returned_.wait(lock, [this] { return !idle_.empty() || open_ < max_; });
    if (!idle_.empty()) {
      session = std::move(idle_.back());
      idle_.pop_back();
    } else {
      ++open_;  // reserved; opened below, outside the lock
    }
  }
  auto give_up = [this] {
    std::lock_guard<std::mutex> lock(mutex_);
    --open_;
    returned_.notify_one();
  };
  // A kept session may have been closed by the server while idle: RSET finds out, and one
  // fresh session replaces it.
  if (session && !session->reset()) session.reset();
  if (!session) {
    auto fresh = smtp_session::open(settings_);
    if (!fresh) {
      give_up();
      return fresh.error();
    }
    session = std::move(*fresh);
  }
  auto sent = session->transaction(message, rendered);
  if (!session->alive_) {
    session.reset();
    give_up();
    return sent;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.push_back(std::move(session));
    returned_.notify_one();
  }
  return sent;
}

}  // namespace certctl::connectors
