#include "connectors/notifiers/email/mime_message.hpp"

#include <ctime>

#include "infra/crypto/jwk.hpp"

namespace certctl::connectors {

namespace {

bool ascii_printable(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

std::string encoded_word(const std::string& s) {
  if (ascii_printable(s)) return s;
  // One encoded word per 45 input bytes keeps each under 75 characters (RFC 2047 §2); splits
  // land on UTF-8 character starts so no word carries half a character.
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t end = std::min(s.size(), i + 45);
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + crypto::base64_encode(std::string_view(s).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string wrapped_base64(const std::string& data) {
  const std::string b = crypto::base64_encode(data);
  std::string out;
  for (std::size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}

std::string rfc5322_date(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::string part(const std::string& type, const std::string& content) {
  return "Content-Type: " + type + "; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
         wrapped_base64(content);
}

}  // namespace

bool valid_address(const std::string& address) {
  const auto at = address.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 == address.size() || address.size() > 254)
    return false;
  for (unsigned char c : address)
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
        c == '(' || c == ')' || c == '\\')
      return false;
  return true;
}

std::string render_mail(const mail_message& m, const std::string& message_id,
                        std::int64_t date_unix, const std::string& boundary) {
  std::string to;
  for (const auto& a : m.to) to += (to.empty() ? "" : ", ") + a;
  std::string out = "From: " + m.from + "\r\nTo: " + to +
                    "\r\nSubject: " + encoded_word(m.subject) +
                    "\r\nDate: " + rfc5322_date(date_unix) + "\r\nMessage-ID: <" + message_id +
                    ">\r\nMIME-Version: 1.0\r\n" + "Auto-Submitted: auto-generated\r\n";
  if (m.html.empty()) return out + part("text/plain", m.text);
  out += "Content-Type: multipart/alternative; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "--" + boundary + "\r\n" + part("text/plain", m.text);
  out += "--" + boundary + "\r\n" + part("text/html", m.html);
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace certctl::connectors
