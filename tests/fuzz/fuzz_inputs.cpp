// Fuzz targets for input that reaches a node from other machines without a JSON body parser in
// front: forwarded cluster commands and replies (Kafka), request headers the HTTP framework
// interprets itself, and the certificate a tls-alpn-01 challenge answers with.
#include <algorithm>
#include <string>
#include <string_view>

#include "actors/cluster/command_codec.hpp"
#include "gateways/acme/tls_alpn01.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/http/http_types.hpp"
#include "gateways/http/position.hpp"
#include "gateways/http/request_id.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {
namespace {

std::string_view view(const std::uint8_t* d, std::size_t n) {
  return {reinterpret_cast<const char*>(d), n};
}
// A crash or sanitizer report is the finding; these checks catch silent contract breaks.
void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool same_command(const cluster::forwarded_command& a, const cluster::forwarded_command& b) {
  return a.kind == b.kind && a.cmd.name == b.cmd.name && a.cmd.entity_id == b.cmd.entity_id &&
         a.cmd.body.dump() == b.cmd.body.dump() && a.cmd.principal == b.cmd.principal &&
         a.cmd.source_address == b.cmd.source_address &&
         a.cmd.correlation_id == b.cmd.correlation_id && a.cmd.command_id == b.cmd.command_id;
}

}  // namespace

int cluster_command(const std::uint8_t* d, std::size_t n) {
  const auto text = view(d, n);
  // Whatever decodes is forwarded again by the receiving node: encoding it and decoding that
  // must give the same command (nothing lost or altered on a second hop).
  if (auto f = cluster::decode_command(text)) {
    auto again = cluster::decode_command(cluster::encode_command(f->kind, f->cmd));
    check(again.ok() && same_command(*f, *again));
  }
  // A reply never throws; an unreadable one becomes an error result, and every result survives
  // its own encoding unchanged.
  const auto r = cluster::decode_result(text);
  const std::string encoded = cluster::encode_result(r);
  const auto r2 = cluster::decode_result(encoded);
  check(r.ok() == r2.ok() && cluster::encode_result(r2) == encoded);
  return 0;
}

int http_headers(const std::uint8_t* d, std::size_t n) {
  const auto text = view(d, n);
  // Authorization: a token, when found, is a non-empty part of the header value.
  if (auto token = gateways::http::bearer_token(text)) {
    check(!token->empty() && token->size() <= text.size());
    check(token->data() >= text.data() && token->data() + token->size() <= text.data() + n);
  }
  // X-Request-Id: whatever is chosen is safe to log and echo, and a sane id is kept as is.
  const std::string id = gateways::http::choose_request_id(text);
  check(gateways::http::is_sane_request_id(id));
  if (gateways::http::is_sane_request_id(text)) check(id == text);
  // X-Certctl-Wait-For-Position: a parsed position is non-negative and prints back as the
  // digits it came from (modulo leading zeros); a malformed value is a 400, never a crash.
  const auto pos = gateways::http::parse_position(text);
  if (pos) {
    check(*pos >= 0);
    std::string digits(text);
    digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
    check(std::to_string(*pos) == digits);
  }
  gateways::http::header_map headers;
  headers.emplace(std::string(gateways::http::wait_for_position_header), std::string(text));
  const auto requested = gateways::http::requested_position(headers);
  check(requested.ok() == pos.has_value());
  if (!requested) check(requested.error().status == 400);
  return 0;
}

int tls_alpn01_certificate(const std::uint8_t* d, std::size_t n) {
  // The identifier and key authorization are the validator's own; the DER is the peer's.
  static const std::string identifier = "alpn.example.test";
  static const std::string key_authorization = "token-0123456789.thumbprint-abcdef";
  const auto verdict =
      gateways::acme::check_tls_alpn01_certificate(view(d, n), identifier, key_authorization);
  // The verdict is a pure function of the bytes.
  const auto again =
      gateways::acme::check_tls_alpn01_certificate(view(d, n), identifier, key_authorization);
  check(verdict.has_value() == again.has_value());
  if (verdict) check(!verdict->empty());
  return 0;
}

}  // namespace certctl::fuzz
