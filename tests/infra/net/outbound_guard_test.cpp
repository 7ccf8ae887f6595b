// The outbound request guard (infra/net/outbound_guard, outbound_http) against loopback
// listeners started in the test: each refused address class, the allow-list, connect and
// read timeouts, and the response size cap enforced while reading.
#define BOOST_TEST_MODULE infra_net_outbound_guard
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "infra/net/outbound_http.hpp"

using namespace certctl::net;

namespace certctl::net {
/// Lets Boost.Test print an error code when a comparison fails.
std::ostream& operator<<(std::ostream& o, outbound_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::net

namespace {

const outbound_guard loopback_allowed{{*parse_cidr("127.0.0.1/32")}};

/// A loopback TCP listener; `serve` runs for each accepted connection on the listener's
/// thread, and the connection is closed when it returns.
class listener {
 public:
  explicit listener(std::function<void(int)> serve, int backlog = 8) : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    BOOST_REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    BOOST_REQUIRE(::listen(fd_, backlog) == 0);
    port_ = ntohs(a.sin_port);
    if (serve_) thread_ = std::thread([this] { run(); });
  }
  ~listener() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) != 1) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      serve_(c);
      ::close(c);
    }
  }

  std::function<void(int)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;

 public:
  const std::atomic<bool>& stopping() const { return stop_; }
};

/// Reads the request head so the client's send completes, then answers `response`; the head
/// goes to `*head` when given.
void answer(int c, const std::string& response, std::string* head = nullptr) {
  std::string got;
  char buf[1024];
  while (got.find("\r\n\r\n") == std::string::npos) {
    const ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0) return;
    got.append(buf, static_cast<std::size_t>(n));
  }
  if (head != nullptr) *head = got;
  ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
}

outbound_limits short_limits() {
  outbound_limits l;
  l.connect_timeout = std::chrono::milliseconds(2000);
  l.io_timeout = std::chrono::milliseconds(2000);
  l.max_response_bytes = 1024;
  return l;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_non_public_class_is_refused_before_any_connect) {
  const outbound_guard guard;
  for (const char* host : {"127.0.0.1",
                           "10.0.0.1",
                           "172.16.5.4",
                           "192.168.0.1",
                           "169.254.169.254",
                           "100.64.0.1",
                           "0.0.0.0",
                           "255.255.255.255",
                           "224.0.0.1",
                           "192.0.2.1",
                           "198.18.0.1",
                           "240.0.0.1",
                           "::1",
                           "::",
                           "fe80::1",
                           "fd00::1",
                           "ff02::1",
                           "2001:db8::1",
                           "::ffff:127.0.0.1",
                           "::ffff:169.254.169.254",
                           "[::1]"}) {
    auto c = guard.connect(host, 80, short_limits());
    BOOST_REQUIRE_MESSAGE(!c.ok(), host);
    BOOST_TEST(c.error().code == outbound_errc::refused_address, host);
  }
}

BOOST_AUTO_TEST_CASE(a_name_resolving_to_loopback_is_refused_too) {
  const outbound_guard guard;
  auto r = guard.resolve("localhost");  // /etc/hosts: no DNS server needed
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::refused_address);
  BOOST_TEST(r.error().detail.find("loopback") != std::string::npos, r.error().detail);
}

BOOST_AUTO_TEST_CASE(legacy_numeric_spellings_of_loopback_are_judged_by_what_they_resolve_to) {
  // inet_aton forms the system resolver accepts: the check runs on the resolved address,
  // so no spelling slips past it.
  const outbound_guard guard;
  for (const char* host : {"2130706433", "0x7f.1", "0177.0.0.1", "127.1"}) {
    auto r = guard.resolve(host);
    BOOST_REQUIRE_MESSAGE(!r.ok(), host);
    BOOST_TEST(r.error().code == outbound_errc::refused_address, host);
  }
}

BOOST_AUTO_TEST_CASE(a_listed_range_is_allowed_and_only_that_range) {
  listener l([](int) {});
  auto ok = loopback_allowed.connect("127.0.0.1", l.port(), short_limits());
  BOOST_REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().log_line()));
  BOOST_TEST(to_string(ok->peer()) == "127.0.0.1");
  // 127.0.0.2 is loopback too, but outside 127.0.0.1/32.
  auto other = loopback_allowed.connect("127.0.0.2", l.port(), short_limits());
  BOOST_REQUIRE(!other.ok());
  BOOST_TEST(other.error().code == outbound_errc::refused_address);
  const outbound_guard metadata{{*parse_cidr("169.254.169.254/32")}};
  BOOST_TEST(metadata.permits([] {
    ip_address a;
    parse_ip("169.254.169.254", a);
    return a;
  }()));
  BOOST_TEST(!metadata.permits([] {
    ip_address a;
    parse_ip("169.254.169.253", a);
    return a;
  }()));
}

BOOST_AUTO_TEST_CASE(errors_tell_the_client_nothing_and_the_log_everything) {
  listener l(nullptr);
  const int port = l.port();
  const outbound_guard guard;
  auto refused = guard.connect("127.0.0.1", port, short_limits());
  BOOST_REQUIRE(!refused.ok());
  const std::string public_text = outbound_error::public_message();
  BOOST_TEST(public_text.find("127.0.0.1") == std::string::npos);
  BOOST_TEST(public_text.find(std::to_string(port)) == std::string::npos);
  BOOST_TEST(refused.error().log_line().find("127.0.0.1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_closed_port_is_a_connect_failure) {
  int port = 0;
  {
    listener l(nullptr);
    port = l.port();
  }
  auto c = loopback_allowed.connect("127.0.0.1", port, short_limits());
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == outbound_errc::connect_failed, c.error().log_line());
}

BOOST_AUTO_TEST_CASE(a_listener_that_accepts_and_never_answers_times_out) {
  std::atomic<bool> done{false};
  listener l([&](int) {
    while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  auto l2 = short_limits();
  l2.io_timeout = std::chrono::milliseconds(300);
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  auto r = http_get(loopback_allowed, req, l2);
  done = true;
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::timeout, r.error().log_line());
}

BOOST_AUTO_TEST_CASE(a_peer_trickling_bytes_still_ends_at_the_exchange_deadline) {
  std::atomic<bool> done{false};
  listener l([&](int c) {
    const std::string head = "HTTP/1.1 200 OK\r\nX-Slow: ";
    ::send(c, head.data(), head.size(), MSG_NOSIGNAL);
    while (!done) {
      if (::send(c, "a", 1, MSG_NOSIGNAL) != 1) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  auto lim = short_limits();
  lim.io_timeout = std::chrono::milliseconds(300);
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  auto r = http_get(loopback_allowed, req, lim);
  done = true;
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::timeout, r.error().log_line());
}

BOOST_AUTO_TEST_CASE(connect_to_a_listener_whose_queue_is_full_times_out) {
  // Backlog 0 and nobody accepting: once the queue holds a connection, Linux drops further
  // SYNs, so the guard's connect waits and must give up at connect_timeout.
  listener l(nullptr, 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int f = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(l.port()));
    ::connect(f, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(f);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the queue fill
  auto lim = short_limits();
  lim.connect_timeout = std::chrono::milliseconds(300);
  auto c = loopback_allowed.connect("127.0.0.1", l.port(), lim);
  for (int f : fillers) ::close(f);
  BOOST_REQUIRE(!c.ok());
  BOOST_TEST(c.error().code == outbound_errc::timeout, c.error().log_line());
}

BOOST_AUTO_TEST_CASE(a_small_answer_is_read_with_its_status_headers_and_body) {
  listener l([](int c) {
    answer(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
  });
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  req.path = "/.well-known/acme-challenge/tok";
  auto r = http_get(loopback_allowed, req, short_limits());
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().log_line()));
  BOOST_TEST(r->status == 200);
  BOOST_TEST(r->body == "hello");
  BOOST_TEST(r->headers.at(0).first == "content-type");
}

BOOST_AUTO_TEST_CASE(a_chunked_answer_is_decoded) {
  listener l([](int c) {
    answer(c,
           "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n"
           "0\r\n\r\n");
  });
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  auto r = http_get(loopback_allowed, req, short_limits());
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().log_line()));
  BOOST_TEST(r->status == 404);
  BOOST_TEST(r->body == "abcde");
}

BOOST_AUTO_TEST_CASE(a_declared_length_above_the_cap_is_refused_without_reading_it) {
  listener l([](int c) { answer(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\nxx"); });
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  auto r = http_get(loopback_allowed, req, short_limits());
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::too_large, r.error().log_line());
}

BOOST_AUTO_TEST_CASE(an_endless_body_is_cut_at_the_cap_while_reading) {
  // The server never stops sending: a client that read everything before checking the size
  // would never return. Only a cap applied while reading ends this exchange.
  for (const char* head :
       {"HTTP/1.1 200 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"}) {
    const bool chunked = std::string(head).find("chunked") != std::string::npos;
    listener l([&](int c) {
      answer(c, head);
      const std::string block =
          chunked ? "400\r\n" + std::string(0x400, 'x') + "\r\n" : std::string(4096, 'x');
      while (!l.stopping())
        if (::send(c, block.data(), block.size(), MSG_NOSIGNAL) < 0) return;
    });
    auto lim = short_limits();
    lim.io_timeout = std::chrono::seconds(30);  // the cap, not the deadline, must end it
    http_get_request req;
    req.host = "127.0.0.1";
    req.port = l.port();
    auto r = http_get(loopback_allowed, req, lim);
    BOOST_REQUIRE(!r.ok());
    BOOST_TEST(r.error().code == outbound_errc::too_large, r.error().log_line());
  }
}

BOOST_AUTO_TEST_CASE(an_oversized_header_section_is_cut_too) {
  listener l([&](int c) {
    answer(c, "HTTP/1.1 200 OK\r\n");
    const std::string h = "X-Pad: " + std::string(1000, 'p') + "\r\n";
    while (!l.stopping())
      if (::send(c, h.data(), h.size(), MSG_NOSIGNAL) < 0) return;
  });
  auto lim = short_limits();
  lim.io_timeout = std::chrono::seconds(30);
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  auto r = http_get(loopback_allowed, req, lim);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::too_large, r.error().log_line());
}

BOOST_AUTO_TEST_CASE(header_injection_in_the_request_is_refused) {
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = 80;
  req.path = "/x HTTP/1.1\r\nEvil: 1";
  auto r = http_get(loopback_allowed, req, short_limits());
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == outbound_errc::invalid_request);
  req.path = "/";
  req.host_header = "a\r\nb";
  BOOST_TEST(http_get(loopback_allowed, req, short_limits()).error().code ==
             outbound_errc::invalid_request);
}

BOOST_AUTO_TEST_CASE(the_request_carries_the_path_host_header_and_extra_headers) {
  std::string head;
  listener l(
      [&](int c) { answer(c, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", &head); });
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = l.port();
  req.path = "/a/b?c=d";
  req.headers = {{"Accept-Language", "en"}};
  auto r = http_get(loopback_allowed, req, short_limits());
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().log_line()));
  BOOST_TEST(r->status == 204);
  BOOST_TEST(head.rfind("GET /a/b?c=d HTTP/1.1\r\n", 0) == 0u, head);
  BOOST_TEST(
      head.find("\r\nHost: 127.0.0.1:" + std::to_string(l.port()) + "\r\n") != std::string::npos,
      head);
  BOOST_TEST(head.find("\r\nAccept-Language: en\r\n") != std::string::npos, head);
  BOOST_TEST(head.find("\r\nConnection: close\r\n") != std::string::npos, head);
  req.host_header = "www.example.test";
  BOOST_REQUIRE(http_get(loopback_allowed, req, short_limits()).ok());
  BOOST_TEST(head.find("\r\nHost: www.example.test\r\n") != std::string::npos, head);
}

BOOST_AUTO_TEST_CASE(a_post_carries_its_body_with_a_content_length_and_a_bad_method_is_refused) {
  http_get_request req;
  req.host = "127.0.0.1";
  req.port = 8080;
  req.path = "/hook";
  req.method = "POST";
  req.body = "{\"a\":1}";
  auto bytes = http_request_bytes(req, 80);
  BOOST_REQUIRE(bytes.ok());
  BOOST_TEST(bytes->rfind("POST /hook HTTP/1.1\r\n", 0) == 0u, *bytes);
  BOOST_TEST(bytes->find("\r\nContent-Length: 7\r\n\r\n{\"a\":1}") != std::string::npos, *bytes);
  BOOST_TEST(bytes->size() == bytes->find("\r\n\r\n") + 4 + 7);
  req.method = "POST /x HTTP/1.1\r\nEvil:";
  BOOST_TEST(http_request_bytes(req, 80).error().code == outbound_errc::invalid_request);
  req.method = "GET";
  req.body.clear();
  BOOST_TEST(http_request_bytes(req, 80)->find("Content-Length") == std::string::npos);
}
