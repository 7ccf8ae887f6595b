#include "tests/fuzz/fuzz_targets.hpp"

#include <string>
#include <string_view>

#include "events/canonical_json.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "gateways/rest/api_keys.hpp"
#include "gateways/rest/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/store/store_url.hpp"

namespace certctl::fuzz {
namespace {
std::string_view view(const std::uint8_t* d, std::size_t n) {
  return {reinterpret_cast<const char*>(d), n};
}
// A crash or sanitizer report is the finding; these checks catch silent contract breaks.
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

int canonical_json(const std::uint8_t* d, std::size_t n) {
  auto once = events::canonicalize_json(view(d, n));
  if (once) {
    // Canonical form is a fixed point: canonicalising it again changes nothing.
    auto twice = events::canonicalize_json(*once);
    check(twice.ok() && *twice == *once);
  }
  return 0;
}

int json_object(const std::uint8_t* d, std::size_t n) {
  auto obj = events::json_object::parse(view(d, n));
  if (obj) {
    auto again = events::json_object::parse(obj->dump());
    check(again.has_value());
    for (const auto& k : obj->keys()) (void)obj->raw(k.c_str());
  }
  return 0;
}

int rfc3339(const std::uint8_t* d, std::size_t n) {
  auto t = events::parse_rfc3339(view(d, n));
  if (t && *t > -62135596800000000LL && *t < 253402300799000000LL) {
    // Whatever parses renders and parses back to the same instant.
    auto back = events::parse_rfc3339(events::format_rfc3339(*t));
    check(back.has_value() && *back == *t);
  }
  return 0;
}

int csr_pem(const std::uint8_t* d, std::size_t n) {
  (void)crypto::parse_csr(view(d, n));
  std::vector<std::uint8_t> der(d, d + n);
  (void)crypto::parse_csr_der(der);
  return 0;
}

int certificate_pem(const std::uint8_t* d, std::size_t n) {
  (void)crypto::parse_certificate(view(d, n));
  (void)crypto::split_pem_chain(view(d, n));
  return 0;
}

int store_url(const std::uint8_t* d, std::size_t n) {
  (void)store::parse_store_url(std::string(view(d, n)));
  return 0;
}

int bearer_and_request_json(const std::uint8_t* d, std::size_t n) {
  (void)gateways::rest::bearer_token(view(d, n));
  (void)gateways::rest::parse_json(std::string(view(d, n)), 1 << 20);
  return 0;
}

}  // namespace certctl::fuzz
