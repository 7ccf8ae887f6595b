#include "connectors/targets/ssh/remote_safety.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace certctl::connectors::ssh {

namespace {

bool word_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  switch (c) {
    case '-':
    case '_':
    case '.':
    case '/':
    case ':':
    case '=':
    case ',':
    case '@':
    case '+':
    case '%':
      return true;
    default:
      return false;
  }
}

std::string describe(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isprint(u) != 0) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", u);
  return buf;
}

}  // namespace

certctl::result<done, std::string> check_remote_command(std::string_view command) {
  if (command.empty()) return std::string("command is empty");
  if (command.size() > 1024) return std::string("command is longer than 1024 bytes");
  for (std::size_t i = 0; i < command.size(); ++i) {
    const char c = command[i];
    if (c != ' ' && !word_char(c))
      return "command has the character " + describe(c) + " at offset " + std::to_string(i) +
             ", which a shell would interpret; use plain words (letters, digits, -_./:=,@+%)";
  }
  return done{};
}

certctl::result<done, std::string> check_remote_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::string("path must be absolute");
  if (path.size() > 4096) return std::string("path is longer than 4096 bytes");
  for (char c : path)
    if (!word_char(c)) return "path has the character " + describe(c) + ", which is not allowed";
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = path.substr(start, end - start);
    if (segment.empty()) return std::string("path has an empty segment (\"//\" or a trailing /)");
    if (segment == "." || segment == "..") return std::string("path has a \".\" or \"..\" segment");
    start = end + 1;
  }
  return done{};
}

certctl::result<done, std::string> check_host(std::string_view host) {
  if (host.empty()) return std::string("host is empty");
  if (host.size() > 253) return std::string("host is longer than 253 bytes");
  std::string_view inner = host;
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return std::string("host has an unbalanced '['");
    inner = host.substr(1, host.size() - 2);
  }
  for (char c : inner) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && c != '.' && c != '-' && c != ':')
      return "host has the character " + describe(c) + ", which is not allowed";
  }
  if (inner.front() == '-') return std::string("host must not start with '-'");
  return done{};
}

}  // namespace certctl::connectors::ssh
