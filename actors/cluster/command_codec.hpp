#pragma once
/// The JSON a forwarded command and its answer travel as on the commands topic and the reply
/// topics (docs/cluster.md). Everything arriving from Kafka is untrusted: decoding checks every
/// field and answers a reason instead of throwing.

#include <string>
#include <string_view>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::cluster {

struct forwarded_command {
  std::string kind;
  domain::command cmd;
};

constexpr std::size_t max_forwarded_bytes = 4u << 20;

std::string encode_command(const std::string& kind, const domain::command& cmd);
result<forwarded_command, std::string> decode_command(std::string_view text);

std::string encode_result(const actors::command_result& r);
/// A reply that cannot be read becomes an `unavailable` error: the caller cannot know whether
/// the command took effect, exactly as with a timeout.
actors::command_result decode_result(std::string_view text);

}  // namespace certctl::cluster
