#include "tests/gateways/acme/dns_test_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace certctl::testing {
namespace {

void put16(std::string& out, unsigned v) {
  out += static_cast<char>((v >> 8) & 0xFF);
  out += static_cast<char>(v & 0xFF);
}

std::string wire_name(const std::string& name) {
  std::string out;
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out += static_cast<char>(dot - start);
    out += name.substr(start, dot - start);
    start = dot + 1;
  }
  return out + '\0';
}

bool readable(int fd, int ms) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, ms) == 1;
}

}  // namespace

dns_test_server::dns_test_server() {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // The same port for UDP and TCP, as a resolver has: pick the TCP port, then bind UDP to it.
  for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt) {
    tcp_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (::bind(tcp_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(tcp_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("dns_test_server: bind tcp");
    udp_fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (::bind(udp_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      port_ = ntohs(a.sin_port);
    } else {
      ::close(tcp_fd_);
      ::close(udp_fd_);
    }
  }
  if (port_ == 0 || ::listen(tcp_fd_, 16) != 0)
    throw std::runtime_error("dns_test_server: no port");
  udp_thread_ = std::thread([this] { serve_udp(); });
  tcp_thread_ = std::thread([this] { serve_tcp(); });
}

dns_test_server::~dns_test_server() {
  stop_ = true;
  udp_thread_.join();
  tcp_thread_.join();
  ::close(udp_fd_);
  ::close(tcp_fd_);
}

void dns_test_server::set_txt(const std::string& name, std::vector<std::string> values) {
  std::lock_guard<std::mutex> lock(mu_);
  txt_[name] = std::move(values);
}

void dns_test_server::set_cname(const std::string& name, const std::string& target) {
  std::lock_guard<std::mutex> lock(mu_);
  cname_[name] = target;
}

std::string dns_test_server::answer(const std::string& q, bool udp) {
  if (q.size() < 17) return {};
  // The question starts at 12 and is uncompressed in a query.
  size_t pos = 12;
  std::string name;
  while (pos < q.size() && q[pos] != 0) {
    const size_t len = static_cast<unsigned char>(q[pos]);
    if (pos + 1 + len > q.size()) return {};
    if (!name.empty()) name += '.';
    for (size_t i = 0; i < len; ++i)
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(q[pos + 1 + i])));
    pos += 1 + len;
  }
  const size_t question_end = pos + 5;
  if (question_end > q.size()) return {};
  std::vector<std::string> values;
  std::string alias_target;
  bool known = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string owner = name;
    if (auto c = cname_.find(name); c != cname_.end()) {
      alias_target = c->second;
      owner = c->second;
    }
    if (auto t = txt_.find(owner); t != txt_.end()) {
      values = t->second;
      known = true;
    }
    known = known || !alias_target.empty();
  }
  const bool truncated = udp && truncate_udp;
  std::string out = q.substr(0, 2);
  put16(out, 0x8180 | (truncated ? 0x0200 : 0) | (known ? 0 : 3));  // QR RD RA, rcode
  put16(out, 1);
  const size_t count = truncated ? 0 : values.size() + (alias_target.empty() ? 0 : 1);
  put16(out, static_cast<unsigned>(count));
  put16(out, 0);
  put16(out, 0);
  out += q.substr(12, question_end - 12);
  if (truncated) return out;
  unsigned owner_ptr = 0xC00C;  // the question's name
  if (!alias_target.empty()) {
    put16(out, owner_ptr);
    put16(out, 5);
    put16(out, 1);
    out += std::string("\0\0\0\x3c", 4);
    const std::string target = wire_name(alias_target);
    put16(out, static_cast<unsigned>(target.size()));
    owner_ptr = 0xC000 | static_cast<unsigned>(out.size());  // the target inside this rdata
    out += target;
  }
  for (const auto& v : values) {
    put16(out, owner_ptr);
    put16(out, 16);
    put16(out, 1);
    out += std::string("\0\0\0\x3c", 4);
    // Long values split into 255-octet character-strings, as real zones do.
    std::string rdata;
    for (size_t i = 0; i < v.size() || (i == 0 && v.empty()); i += 255) {
      const std::string part = v.substr(i, 255);
      rdata += static_cast<char>(part.size());
      rdata += part;
      if (v.empty()) break;
    }
    put16(out, static_cast<unsigned>(rdata.size()));
    out += rdata;
  }
  return out;
}

void dns_test_server::serve_udp() {
  char buf[4096];
  while (!stop_) {
    if (!readable(udp_fd_, 50)) continue;
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n =
        ::recvfrom(udp_fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n <= 0) continue;
    ++udp_queries;
    if (silent) continue;
    const std::string reply = answer(std::string(buf, static_cast<size_t>(n)), true);
    if (!reply.empty())
      ::sendto(udp_fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
  }
}

void dns_test_server::serve_tcp() {
  while (!stop_) {
    if (!readable(tcp_fd_, 50)) continue;
    const int c = ::accept(tcp_fd_, nullptr, nullptr);
    if (c < 0) continue;
    ++tcp_queries;
    unsigned char len[2];
    std::string q;
    if (readable(c, 2000) && ::recv(c, len, 2, MSG_WAITALL) == 2) {
      q.resize(static_cast<size_t>(len[0] << 8 | len[1]));
      if (::recv(c, q.data(), q.size(), MSG_WAITALL) == static_cast<ssize_t>(q.size()) && !silent) {
        const std::string reply = answer(q, false);
        std::string framed;
        put16(framed, static_cast<unsigned>(reply.size()));
        framed += reply;
        ::send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
      }
    }
    ::close(c);
  }
}

}  // namespace certctl::testing
