// Fuzz target for the dns-01 validator's DNS response decoder (gateways/acme/dns_message): the
// answer comes off the network from whatever answers on the resolver's address.
#include <string_view>

#include "gateways/acme/dns_client.hpp"
#include "gateways/acme/dns_message.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {

int dns_message(const std::uint8_t* data, std::size_t size) {
  const std::string_view wire(reinterpret_cast<const char*>(data), size);
  auto m = gateways::acme::dns::decode(wire);
  if (!m) return 0;
  // Decoding is a pure function of the bytes, and whatever decoded can be searched.
  auto again = gateways::acme::dns::decode(wire);
  if (!again || again->answers.size() != m->answers.size() ||
      again->questions.size() != m->questions.size())
    __builtin_trap();
  for (const auto& q : m->questions) {
    if (q.name.size() > 4 * 255) __builtin_trap();  // at most 255 octets, each escaped to 4
    (void)gateways::acme::txt_values(*m, q.name);
  }
  return 0;
}

}  // namespace certctl::fuzz
