#pragma once
/// Checks on what an SSH target sends to a remote host. A remote command runs through the
/// login shell of the remote user (SSH has no argv form), so it must not carry anything the
/// shell would interpret: the allowed characters are a plain word alphabet, and a command is
/// a sequence of such words. Remote paths must be absolute and free of `..` so that a config
/// cannot name a file outside the directory the operator meant.

#include <string>
#include <string_view>

#include "events/result.hpp"

namespace certctl::connectors::ssh {

/// Letters, digits, space and `-_./:=,@+%`; not empty, at most 1024 bytes. The message names
/// the first offending character (never the whole command: it may hold a token).
certctl::result<done, std::string> check_remote_command(std::string_view command);

/// Absolute, no `..` or `.` segment, no empty segment, no control character, no shell
/// metacharacter (the path also appears in commands the operator writes), at most 4096 bytes.
certctl::result<done, std::string> check_remote_path(std::string_view path);

/// Host names and IP literals: letters, digits, `.-:` and `[]` around an IPv6 literal.
certctl::result<done, std::string> check_host(std::string_view host);

}  // namespace certctl::connectors::ssh
