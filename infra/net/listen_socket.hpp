#pragma once
/// The options of every listening socket opened through cpp-httplib (pass to
/// `httplib::Server::set_socket_options` before `bind_to_port`).

#include <sys/socket.h>

namespace certctl::net {

/// SO_REUSEADDR, and deliberately not SO_REUSEPORT (cpp-httplib's own default on Linux):
/// - a port whose earlier connections linger in TIME_WAIT can be bound again: a restarted
///   server, or a loopback port the kernel lent to an outgoing connection a minute ago (fixed
///   test ports lie in Linux's ephemeral range), which SO_REUSEPORT alone refuses;
/// - a second live listener on the same port fails to bind, where SO_REUSEPORT would let it
///   share the first one's connections without a word.
inline void listen_socket_options(int sock) {
  int yes = 1;
  ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
}

}  // namespace certctl::net
