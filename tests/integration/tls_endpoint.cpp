#include "tests/integration/tls_endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdint>
#include <thread>

namespace certctl::integration {

bool accepting(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

tls_endpoint::tls_endpoint(const std::string& base, int port) {
  pid_ = ::fork();
  BOOST_REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    const std::string accept = "127.0.0.1:" + std::to_string(port);
    const std::string cert = base + ".pem", key = base + ".key", chain = base + ".chain.pem";
    if (::access(chain.c_str(), R_OK) == 0)
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(),
               "-cert", cert.c_str(), "-key", key.c_str(), "-cert_chain", chain.c_str(),
               static_cast<char*>(nullptr));
    else
      ::execlp("openssl", "openssl", "s_server", "-quiet", "-www", "-accept", accept.c_str(),
               "-cert", cert.c_str(), "-key", key.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Ready when it accepts: bounded, and the loop ends as soon as it listens.
  for (int i = 0; i < 200 && !accepting(port); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  BOOST_REQUIRE_MESSAGE(accepting(port), "openssl s_server did not start on " << port);
}

void tls_endpoint::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace certctl::integration
