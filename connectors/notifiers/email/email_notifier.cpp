// Email notifier: SMTP submission (smtp_client.hpp) of a plain-text message, or plain text and
// HTML as multipart/alternative when the notification carries HTML (the digest does). The
// recipient is the notification's (comma-separated addresses) or else the configured list.
#include <chrono>

#include "connectors/builtin.hpp"
#include "connectors/notifiers/email/smtp_client.hpp"
#include "connectors/notifiers/registrations.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::connectors {

namespace {

std::vector<std::string> split_addresses(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      const auto b = cur.find_first_not_of(" \t");
      const auto e = cur.find_last_not_of(" \t");
      if (b != std::string::npos) out.push_back(cur.substr(b, e - b + 1));
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

class email_notifier final : public notifier {
 public:
  email_notifier(std::string id, smtp_settings s, std::size_t pool, std::string from,
                 std::vector<std::string> recipients)
      : id_(std::move(id)),
        from_(std::move(from)),
        recipients_(std::move(recipients)),
        pool_(std::move(s), pool) {}

  std::string_view type() const override { return "Email"; }
  const std::string& id() const override { return id_; }
  std::string_view channel() const override { return "Email"; }

  certctl::result<delivery, connector_error> send(const notification& n) override {
    const std::string who = "Email notifier " + id_;
    if (n.channel != "Email")
      return connector_error{connector_errc::invalid_request,
                             who + " serves channel Email, not " + n.channel};
    mail_message m;
    m.from = from_;
    m.to = n.recipient.empty() ? recipients_ : split_addresses(n.recipient);
    if (m.to.empty())
      return connector_error{connector_errc::invalid_request,
                             who + ": no recipient (none given, none configured)"};
    for (const auto& a : m.to)
      if (!valid_address(a))
        return connector_error{connector_errc::invalid_request,
                               who + ": invalid recipient address '" + a + "'"};
    m.subject = n.subject;
    m.text = n.body;
    m.html = n.html_body;
    const std::string domain = from_.substr(from_.rfind('@') + 1);
    const std::string message_id = crypto::uuid_v4() + "@" + domain;
    const auto now = std::chrono::system_clock::now();
    const std::string rendered = render_mail(
        m, message_id,
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count(),
        "=_certctl_" + crypto::random_hex(12));
    auto r = pool_.send(m, rendered);
    if (!r) return r.error();
    return delivery{
        message_id,
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count()};
  }

 private:
  std::string id_;
  std::string from_;
  std::vector<std::string> recipients_;
  smtp_pool pool_;
};

}  // namespace

certctl::result<done, std::string> register_email_notifier(connector_registry& registry,
                                                           const builtin_context& context) {
  notifier_registration r;
  r.type = "Email";
  r.description = "SMTP submission (STARTTLS or implicit TLS, AUTH PLAIN/LOGIN), text + HTML";
  r.schema = {
      {{"host", field_type::string, true, false, "SMTP server"},
       {"port", field_type::integer, false, false, "default 587 (465: implicit TLS)"},
       {"username", field_type::string, false, false, "AUTH user; absent: no AUTH"},
       {"password", field_type::string, false, true, "AUTH password"},
       {"from_address", field_type::string, true, false, "envelope and From address"},
       {"use_tls", field_type::boolean, false, false,
        "default true: STARTTLS, or implicit TLS on port 465"},
       {"tls_mode", field_type::string, false, false,
        "starttls | implicit | none; overrides use_tls"},
       {"recipients", field_type::string_array, false, false,
        "addresses used when a notification names none"},
       {"ca_bundle_path", field_type::string, false, false,
        "PEM CA bundle for the server's certificate; default system store"},
       {"helo_name", field_type::string, false, false, "our EHLO name (localhost)"},
       {"pool_size", field_type::integer, false, false,
        "SMTP sessions kept open at most, 1-16 (2)"},
       {"timeout_seconds", field_type::integer, false, false, "per SMTP step, 1-300 (30)"}}};
  r.make = [guard = context.outbound != nullptr ? *context.outbound : net::outbound_guard{}](
               const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    auto bad = [](const std::string& m) {
      return connector_error{connector_errc::invalid_config, m};
    };
    smtp_settings st;
    st.guard = guard;
    st.host = s.config.str("host");
    st.port = static_cast<int>(s.config.int64("port", 587));
    if (st.port < 1 || st.port > 65535) return bad("config.port must be 1-65535");
    const std::string mode = s.config.str("tls_mode");
    if (mode == "starttls")
      st.tls = smtp_tls::starttls;
    else if (mode == "implicit")
      st.tls = smtp_tls::implicit;
    else if (mode == "none")
      st.tls = smtp_tls::none;
    else if (!mode.empty())
      return bad("config.tls_mode must be starttls, implicit or none");
    else if (!s.config.boolean("use_tls", true))
      st.tls = smtp_tls::none;
    else
      st.tls = st.port == 465 ? smtp_tls::implicit : smtp_tls::starttls;
    st.username = s.config.str("username");
    st.password = s.config.str("password");
    if (!st.username.empty() && st.tls == smtp_tls::none)
      return bad("config.username needs TLS: credentials are never sent in clear text");
    st.helo_name = s.config.str("helo_name", "localhost");
    if (st.helo_name.empty() || st.helo_name.find_first_of(" \r\n") != std::string::npos)
      return bad("config.helo_name must be a host name");
    st.trust.ca_bundle_path = s.config.str("ca_bundle_path");
    const auto timeout = s.config.int64("timeout_seconds", 30);
    if (timeout < 1 || timeout > 300) return bad("config.timeout_seconds must be 1-300");
    st.limits.io_timeout = std::chrono::seconds(timeout);
    const auto pool = s.config.int64("pool_size", 2);
    if (pool < 1 || pool > 16) return bad("config.pool_size must be 1-16");
    const std::string from = s.config.str("from_address");
    if (!valid_address(from)) return bad("config.from_address must be an address like a@b.example");
    std::vector<std::string> recipients = s.config.str_array("recipients");
    for (const auto& a : recipients)
      if (!valid_address(a)) return bad("config.recipients: invalid address '" + a + "'");
    return std::shared_ptr<notifier>(std::make_shared<email_notifier>(
        s.id, std::move(st), static_cast<std::size_t>(pool), from, std::move(recipients)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
