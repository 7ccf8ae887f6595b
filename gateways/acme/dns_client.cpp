#include "gateways/acme/dns_client.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "infra/crypto/random.hpp"

namespace certctl::gateways::acme {
namespace {

using steady = std::chrono::steady_clock;

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int ms_left(steady::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

/// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_for(int fd, short events, steady::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, ms_left(deadline));
    if (n < 0 && errno == EINTR) continue;
    return n > 0 && (p.revents & (events | POLLHUP)) != 0;
  }
}

result<int, dns::error> connected_socket(const resolver_address& r, int socktype,
                                         steady::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socktype;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(r.port);
  if (const int rc = ::getaddrinfo(r.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return dns::error{"resolver address " + r.host + ": " + ::gai_strerror(rc)};
  const int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ::freeaddrinfo(found);
    return dns::error{std::string("socket: ") + std::strerror(errno)};
  }
  int rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
  ::freeaddrinfo(found);
  if (rc != 0 && errno == EINPROGRESS) {
    int err = 0;
    socklen_t len = sizeof err;
    if (!wait_for(fd, POLLOUT, deadline) ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return dns::error{"cannot connect to resolver " + r.host + ":" + port};
    }
    rc = 0;
  }
  if (rc != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return dns::error{"cannot connect to resolver " + r.host + ":" + port + ": " + why};
  }
  return fd;
}

bool send_all(int fd, std::string_view data, steady::time_point deadline) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool recv_exact(int fd, char* out, size_t size, steady::time_point deadline) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = ::recv(fd, out + got, size - got, 0);
    if (n > 0) {
      got += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd, POLLIN, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

/// Whether `m` answers our question (RFC 5452 §9.1: id, question name, type and class).
bool answers(const dns::message& m, std::uint16_t id, const std::string& qname) {
  return m.response && m.id == id && m.opcode == 0 && m.questions.size() == 1 &&
         m.questions[0].name == qname && m.questions[0].type == dns::type_txt &&
         m.questions[0].klass == dns::class_in;
}

result<dns::message, dns::error> over_udp(const std::string& query, std::uint16_t id,
                                          const std::string& qname, const resolver_address& r,
                                          steady::time_point deadline) {
  auto fd = connected_socket(r, SOCK_DGRAM, deadline);
  if (!fd) return fd.error();
  fd_guard guard(*fd);
  if (!send_all(*fd, query, deadline)) return dns::error{"sending the DNS query failed"};
  // A connected UDP socket only delivers datagrams from the resolver's address and port;
  // anything that does not answer our id and question is ignored until the deadline.
  std::string buf(65535, '\0');
  for (;;) {
    if (!wait_for(*fd, POLLIN, deadline))
      return dns::error{"no answer from resolver " + r.host + ":" + std::to_string(r.port)};
    const ssize_t n = ::recv(*fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return dns::error{std::string("receiving the DNS answer failed: ") + std::strerror(errno)};
    }
    auto m = dns::decode(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (m && answers(*m, id, qname)) return m;
  }
}

result<dns::message, dns::error> over_tcp(const std::string& query, std::uint16_t id,
                                          const std::string& qname, const resolver_address& r,
                                          steady::time_point deadline) {
  auto fd = connected_socket(r, SOCK_STREAM, deadline);
  if (!fd) return fd.error();
  fd_guard guard(*fd);
  std::string framed;
  framed += static_cast<char>(query.size() >> 8);
  framed += static_cast<char>(query.size() & 0xFF);
  framed += query;
  if (!send_all(*fd, framed, deadline)) return dns::error{"sending the DNS query over TCP failed"};
  unsigned char len[2];
  if (!recv_exact(*fd, reinterpret_cast<char*>(len), 2, deadline))
    return dns::error{"no answer over TCP from resolver " + r.host};
  std::string buf(static_cast<size_t>(len[0]) << 8 | len[1], '\0');
  if (!recv_exact(*fd, buf.data(), buf.size(), deadline))
    return dns::error{"the TCP answer was cut off"};
  auto m = dns::decode(buf);
  if (!m) return dns::error{"malformed DNS answer: " + m.error().message};
  if (!answers(*m, id, qname)) return dns::error{"the TCP answer does not match the query"};
  return m;
}

}  // namespace

result<resolver_address, dns::error> parse_resolver_address(const std::string& text) {
  resolver_address a;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos) return dns::error{"'" + text + "': missing ']'"};
    a.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return dns::error{"'" + text + "': expected ':' after ']'"};
      port = text.substr(close + 2);
    }
  } else if (text.find(':') != text.rfind(':')) {
    a.host = text;  // a bare IPv6 address
  } else {
    const auto colon = text.find(':');
    a.host = text.substr(0, colon);
    if (colon != std::string::npos) port = text.substr(colon + 1);
  }
  if (a.host.empty()) return dns::error{"'" + text + "': no host"};
  if (!port.empty() || text.back() == ':') {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
        std::stoi(port) < 1 || std::stoi(port) > 65535)
      return dns::error{"'" + text + "': port must be 1-65535"};
    a.port = std::stoi(port);
  }
  return a;
}

result<resolver_address, dns::error> default_resolver(const std::string& resolv_conf) {
  std::ifstream in(resolv_conf);
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string key, value;
    if (words >> key >> value && key == "nameserver") {
      resolver_address a;
      a.host = value.substr(0, value.find('%'));  // drop an IPv6 zone id
      return a;
    }
  }
  return dns::error{"no nameserver in " + resolv_conf + " (set CERTCTL_ACME_SERVER_DNS_RESOLVER)"};
}

std::vector<std::string> txt_values(const dns::message& answer, const std::string& name) {
  std::set<std::string> owners{dns::canonical_name(name)};
  // A CNAME chain inside one answer; bounded by the number of records, so no loop.
  for (size_t round = 0; round < answer.answers.size(); ++round) {
    bool grew = false;
    for (const auto& rr : answer.answers)
      if (rr.type == dns::type_cname && rr.klass == dns::class_in && owners.count(rr.name) &&
          owners.insert(rr.target).second)
        grew = true;
    if (!grew) break;
  }
  std::vector<std::string> out;
  for (const auto& rr : answer.answers) {
    if (rr.type != dns::type_txt || rr.klass != dns::class_in || !owners.count(rr.name)) continue;
    std::string joined;
    for (const auto& s : rr.txt) joined += s;
    out.push_back(std::move(joined));
  }
  return out;
}

result<std::vector<std::string>, dns::error> lookup_txt(const std::string& name,
                                                        const resolver_address& resolver,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  const auto id_bytes = crypto::random_bytes(2);
  const auto id = static_cast<std::uint16_t>(id_bytes[0] << 8 | id_bytes[1]);
  auto query = dns::encode_query(id, name, dns::type_txt);
  if (!query) return query.error();
  const std::string qname = dns::canonical_name(name);
  auto m = over_udp(*query, id, qname, resolver, deadline);
  if (m && m->truncated) m = over_tcp(*query, id, qname, resolver, deadline);
  if (!m) return m.error();
  if (m->rcode == dns::rcode_nxdomain) return std::vector<std::string>{};
  if (m->rcode != dns::rcode_noerror)
    return dns::error{"resolver answered rcode " + std::to_string(m->rcode) + " for " + name};
  return txt_values(*m, name);
}

}  // namespace certctl::gateways::acme
