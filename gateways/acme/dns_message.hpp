#pragma once
/// DNS messages (RFC 1035 §4) for the dns-01 validator: building a query and decoding a
/// response. The response comes off the network and is untrusted: every read is bounds
/// checked, compression pointers (§4.1.4) must point strictly backwards and may not loop, a
/// name is at most 255 octets, and anything inconsistent is an error, never a crash.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "events/result.hpp"

namespace certctl::gateways::acme::dns {

/// Why a message could not be built or decoded.
struct error {
  std::string message;
};

inline constexpr std::uint16_t type_cname = 5;
inline constexpr std::uint16_t type_txt = 16;
inline constexpr std::uint16_t class_in = 1;

inline constexpr std::uint8_t rcode_noerror = 0;
inline constexpr std::uint8_t rcode_nxdomain = 3;

/// One resource record of the answer section. Names are lower case, without the trailing dot;
/// a label's '.', '\' and bytes outside printable ASCII are written as \DDD, so a label with
/// a dot in it can never read as two labels.
struct record {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::vector<std::string> txt;  ///< TXT: the character-strings, in order
  std::string target;            ///< CNAME: the canonical name
};

struct question {
  std::string name;
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
};

struct message {
  std::uint16_t id = 0;
  bool response = false;
  bool truncated = false;
  std::uint8_t opcode = 0;
  std::uint8_t rcode = 0;
  std::vector<question> questions;
  std::vector<record> answers;  ///< authority and additional sections are not decoded
};

/// A standard recursive query (RD set) for `name` (dotted, no trailing dot needed); an error
/// when the name is not a valid sequence of 1-63 octet labels of at most 255 octets in all.
result<std::string, error> encode_query(std::uint16_t id, std::string_view name,
                                        std::uint16_t type);

/// Decodes the header, the question section and the answer section of `wire`.
result<message, error> decode(std::string_view wire);

/// `name` in the canonical form decode() produces (lower case, escaped, no trailing dot).
std::string canonical_name(std::string_view name);

}  // namespace certctl::gateways::acme::dns
