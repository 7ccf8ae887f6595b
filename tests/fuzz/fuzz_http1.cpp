// Fuzz target for the PKI listener's HTTP/1.1 parser (gateways/pki/http1_parser.hpp): the
// bytes a relying party sends on the plain-HTTP PKI port, pipelined requests included.
#include <string_view>

#include "gateways/pki/http1_parser.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {
namespace {

// A crash or sanitizer report is the finding; these checks catch silent contract breaks.
void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

int pki_http1_request(const std::uint8_t* d, std::size_t n) {
  using gateways::pki::parse_status;
  std::string_view buf(reinterpret_cast<const char*>(d), n);
  gateways::pki::http1_limits small;  // small limits reach every limit branch with short input
  small.max_request_line = 64;
  small.max_header_bytes = 128;
  small.max_headers = 4;
  small.max_body = 32;
  for (const auto& limits : {gateways::pki::http1_limits{}, small}) {
    std::string_view rest = buf;
    // Take requests off the front as the listener does, until one is incomplete or bad.
    for (int i = 0; i < 64; ++i) {
      const auto r = gateways::pki::parse_request(rest, limits);
      if (r.status == parse_status::incomplete) {
        check(r.needed == 0 || r.needed > rest.size());
        break;
      }
      if (r.status == parse_status::error) {
        const int s = r.error_status;
        check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505);
        check(!r.keep_alive);
        break;
      }
      check(r.consumed > 0 && r.consumed <= rest.size());
      check(r.request.body.size() <= limits.max_body);
      check(r.request.headers.size() <= limits.max_headers);
      check(!r.request.path.empty() && r.request.path.front() == '/');
      // The request alone, without what follows it, parses to the same request.
      const auto alone = gateways::pki::parse_request(rest.substr(0, r.consumed), limits);
      check(alone.status == parse_status::complete && alone.consumed == r.consumed &&
            alone.request.path == r.request.path && alone.request.body == r.request.body);
      rest.remove_prefix(r.consumed);
    }
  }
  return 0;
}

}  // namespace certctl::fuzz
