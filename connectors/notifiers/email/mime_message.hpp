#pragma once
/// An RFC 5322 message with MIME (RFC 2045/2046): plain text alone, or plain text and HTML as
/// multipart/alternative (clients show the richest part they can). Parts are UTF-8, base64
/// encoded and wrapped at 76 characters, so no body line can start with "." or exceed SMTP's
/// line limit; a non-ASCII subject is an RFC 2047 encoded word.

#include <cstdint>
#include <string>
#include <vector>

namespace certctl::connectors {

struct mail_message {
  std::string from;             ///< address only, e.g. certctl@example.com
  std::vector<std::string> to;  ///< addresses
  std::string subject;
  std::string text;
  std::string html;  ///< "" = text only
};

/// The message bytes with CRLF line ends (not yet dot-stuffed). `message_id` is used as the
/// Message-ID header (without brackets), `date_unix` for the Date header.
std::string render_mail(const mail_message& m, const std::string& message_id,
                        std::int64_t date_unix, const std::string& boundary);

/// True when `address` is a plain addr-spec we may put in a header and an SMTP command:
/// local@domain, no spaces, brackets, CR or LF (anything else could inject a header or command).
bool valid_address(const std::string& address);

}  // namespace certctl::connectors
