#pragma once
/// The nesting guard every parser of JSON from outside the process runs first (REST bodies,
/// ACME payloads, JOSE headers). RapidJSON's default parser recurses once per level, and so do
/// its writer and deep copy, so a body of 100,000 '[' would exhaust the stack: the guard
/// refuses such text before any parser or recursive walk sees it.

#include <cstddef>
#include <string_view>

namespace certctl::events {

/// Levels of arrays/objects a request body may nest. Our request bodies nest at most four; the
/// margin keeps clients that send rich metadata working.
inline constexpr std::size_t max_untrusted_json_depth = 64;

/// The cap json_object::parse applies to every text, also to JSON this process wrote itself
/// (events, snapshots, views), which wraps an accepted body a few levels deeper.
inline constexpr std::size_t max_json_depth = 256;

/// True when `text` opens more than `max_depth` arrays/objects at once. A linear scan that
/// skips string contents (with their escapes); it does not validate, the parser does that.
inline bool json_deeper_than(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

}  // namespace certctl::events
