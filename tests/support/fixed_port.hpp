#pragma once
/// Binding a test stand-in to its fixed loopback port.

#include <chrono>
#include <thread>

namespace certctl::testing {

/// Binds `server` (a cpp-httplib server) to 127.0.0.1:`port`, trying again for up to 65 s
/// while the port is taken. Why: the fixed test ports lie in Linux's ephemeral range
/// (32768-60999), so an earlier test's outgoing connection (to PostgreSQL, say) may have used
/// the same port, and its TIME_WAIT keeps a listener off it for 60 s whatever SO_REUSEADDR or
/// SO_REUSEPORT say (the kernel wants the option on both sockets). Waiting turns that rare
/// collision into a delay; a port held by a live listener still fails, after the wait.
template <class Server>
bool bind_fixed_port(Server& server, int port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(65);
  for (;;) {
    if (server.bind_to_port("127.0.0.1", port)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace certctl::testing
