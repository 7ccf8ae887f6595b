// The event-driven PKI listener (gateways/pki/pki_listener.hpp) over the real revocation
// cache and real OCSP signing: the answers of every form, keep-alive, pipelining (answers in
// request order, also when a worker answers one of them), slow and idle clients closed
// without holding up the others, oversized requests, a few hundred connections at once.
// No timing is asserted beyond "eventually, within a generous bound".
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>

#include "actors/workflows/revocation_cache.hpp"
#include "gateways/pki/pki_handler.hpp"
#include "gateways/pki/pki_listener.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/signer.hpp"

using namespace certctl;
using namespace certctl::gateways::pki;
using std::chrono::milliseconds;

namespace {

constexpr std::int64_t us = 1'000'000;
const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));

/// The read model: serial 0A good, 0B revoked (both of issuer "iss").
class fixed_reader final : public actors::revocation_reader {
 public:
  actors::revocation_read<std::vector<actors::revocation_entry>> changed_after(
      std::int64_t position, size_t limit) override {
    return select(position, limit);
  }
  actors::revocation_read<std::vector<actors::revocation_entry>> entries_of(const std::string&,
                                                                            std::int64_t position,
                                                                            size_t limit) override {
    return select(position, limit);
  }
  actors::revocation_read<std::int64_t> last_crl_number(const std::string&) override { return 0; }
  std::int64_t projected_position() override { return position.load(); }
  std::atomic<std::int64_t> position{2};  ///< raised by a test: the projector is ahead

 private:
  std::vector<actors::revocation_entry> select(std::int64_t after, size_t limit) {
    const std::vector<actors::revocation_entry> all = {
        {"iss", "0A", "mc-a", (now_s + 86400 * 30) * us, std::nullopt, 0, 0, 1},
        {"iss", "0B", "mc-b", (now_s + 86400 * 30) * us, (now_s - 60) * us, 1, 0, 2}};
    std::vector<actors::revocation_entry> out;
    for (const auto& e : all)
      if (e.changed_position > after && out.size() < limit) out.push_back(e);
    return out;
  }
};

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(t[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(t[(acc << (6 - bits)) & 63]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

/// A plain blocking client socket with helpers to read whole HTTP responses.
class raw_client {
 public:
  explicit raw_client(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~raw_client() { ::close(fd_); }
  bool connected() const { return connected_; }

  bool send(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }

  struct reply {
    int status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };

  /// The next response; status 0 when the connection ended or nothing came within `wait`.
  reply read(milliseconds wait = milliseconds(10000)) {
    reply r;
    size_t head_end;
    while ((head_end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(wait)) return r;
    const std::string head = buf_.substr(0, head_end);
    r.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos < head.size()) {
      const size_t next = head.find("\r\n", pos + 2);
      const std::string line =
          head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = line.substr(colon + 2);
      }
      pos = next;
    }
    const size_t length =
        r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    buf_.erase(0, head_end + 4);
    while (buf_.size() < length)
      if (!fill(wait)) return reply{};
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  /// True when the server closed the connection within `wait` (reads and drops data).
  bool closed_within(milliseconds wait) {
    const auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char b[4096];
      const ssize_t n = ::recv(fd_, b, sizeof b, 0);
      if (n <= 0) return true;
    }
    return false;
  }

 private:
  bool fill(milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
    char b[16384];
    const ssize_t n = ::recv(fd_, b, sizeof b, 0);
    if (n <= 0) return false;
    buf_.append(b, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

struct listener_fixture {
  std::string ca_pem;
  std::unique_ptr<crypto::revocation_signer> signer;
  std::shared_ptr<const crypto::ocsp_signer> responder;
  infra::system_clock clock;
  std::shared_ptr<fixed_reader> reader = std::make_shared<fixed_reader>();
  actors::revocation_cache cache{reader, clock};
  pki_handler handler{cache};
  std::unique_ptr<pki_listener> listener;

  /// `timeout`: idle and request timeouts; long by default, so a loaded test box does not
  /// close a connection the test is about to use.
  explicit listener_fixture(milliseconds timeout = milliseconds(30000)) {
    auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    crypto::certificate_template tpl;
    tpl.subject = {"PKI Listener Test Root", "", ""};
    tpl.not_before = now_s - 60;
    tpl.not_after = now_s + 365 * 86400;
    tpl.is_ca = true;
    auto cert = crypto::self_sign(key->pem, tpl);
    BOOST_REQUIRE(cert.ok());
    ca_pem = cert.value();
    auto rs = crypto::revocation_signer::create(ca_pem, key->pem);
    BOOST_REQUIRE(rs.ok());
    signer = std::make_unique<crypto::revocation_signer>(std::move(rs).value());
    auto creds = signer->issue_ocsp_responder(now_s - 60, now_s + 86400);
    BOOST_REQUIRE(creds.ok());
    auto s = crypto::ocsp_signer::create(ca_pem, creds->cert_pem, creds->key_pem);
    BOOST_REQUIRE(s.ok());
    responder = std::make_shared<const crypto::ocsp_signer>(std::move(s).value());
    actors::revocation_authority a;
    a.issuer_id = "iss";
    a.sign_crl = [this](const crypto::crl_content& c) { return signer->sign_crl(c); };
    a.responder = [this]() -> result<std::shared_ptr<const crypto::ocsp_signer>, std::string> {
      return responder;
    };
    cache.add_authority(std::move(a));
    BOOST_REQUIRE(cache.start().ok());
    cache.refresh();  // pre-signs 0A and 0B: the I/O threads answer those themselves
    listener_config cfg;
    cfg.io_threads = 2;
    cfg.workers = 2;
    cfg.idle_timeout = timeout;
    cfg.request_timeout = timeout;
    listener = std::make_unique<pki_listener>(cfg, pki_listener_handler(handler));
    auto started = listener->start();
    BOOST_REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
  }
  ~listener_fixture() {
    listener->stop();
    cache.stop();
  }

  int port() const { return listener->port(); }

  std::string post(const std::string& serial, bool nonce, bool keep_alive = true) const {
    auto der = crypto::build_ocsp_request(ca_pem, {serial}, crypto::ocsp_hash::sha1, nonce);
    BOOST_REQUIRE(der.ok());
    const std::string body(der->begin(), der->end());
    return "POST /.well-known/pki/ocsp/iss HTTP/1.1\r\nHost: t\r\n"
           "Content-Type: application/ocsp-request\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n" + (keep_alive ? "" : "Connection: close\r\n") +
           "\r\n" + body;
  }
  static std::string get(const std::string& tail) {
    return "GET /.well-known/pki/" + tail + " HTTP/1.1\r\nHost: t\r\n\r\n";
  }
};

/// Timeouts of 1.5 s, for the test of slow and idle clients.
struct short_timeouts_fixture : listener_fixture {
  short_timeouts_fixture() : listener_fixture(milliseconds(1500)) {}
};

crypto::ocsp_response_info ocsp_info(const raw_client::reply& r) {
  BOOST_REQUIRE_EQUAL(r.status, 200);
  BOOST_TEST(r.headers.at("content-type") == "application/ocsp-response");
  auto info = crypto::parse_ocsp_response(crypto::bytes(r.body.begin(), r.body.end()));
  BOOST_REQUIRE(info.ok());
  BOOST_REQUIRE(info->status == crypto::ocsp_response_status::successful);
  BOOST_REQUIRE(info->singles.size() == 1u);
  BOOST_TEST(info->signature_valid);
  return info.value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pki_listener_suite)

BOOST_FIXTURE_TEST_CASE(ocsp_post_and_get_forms_and_the_crl_are_answered, listener_fixture) {
  raw_client c(port());
  BOOST_REQUIRE(c.connected());
  // POST, pre-signed: answered on the I/O thread.
  BOOST_REQUIRE(c.send(post("0A", false)));
  auto good = ocsp_info(c.read());
  BOOST_TEST((good.singles[0].status == crypto::ocsp_cert_status::good));
  // POST with a nonce: signed by a worker, the nonce echoed.
  BOOST_REQUIRE(c.send(post("0B", true)));
  auto revoked = ocsp_info(c.read());
  BOOST_TEST((revoked.singles[0].status == crypto::ocsp_cert_status::revoked));
  BOOST_TEST(!revoked.nonce.empty());
  // GET by serial and the RFC 6960 A.1 base64 form (percent-encoded as a client sends it).
  BOOST_REQUIRE(c.send(get("ocsp/iss/0B")));
  auto by_serial = c.read();
  BOOST_TEST((ocsp_info(by_serial).singles[0].status == crypto::ocsp_cert_status::revoked));
  BOOST_TEST(by_serial.headers.at("cache-control").find("max-age=") != std::string::npos);
  auto der = crypto::build_ocsp_request(ca_pem, {"0A"}, crypto::ocsp_hash::sha1, false);
  BOOST_REQUIRE(der.ok());
  std::string encoded;
  for (char ch : base64(std::string(der->begin(), der->end())))
    encoded += ch == '+' ? "%2B" : ch == '/' ? "%2F" : ch == '=' ? "%3D" : std::string(1, ch);
  BOOST_REQUIRE(c.send(get("ocsp/iss/" + encoded)));
  BOOST_TEST((ocsp_info(c.read()).singles[0].status == crypto::ocsp_cert_status::good));
  // The CRL, then a conditional GET of it.
  BOOST_REQUIRE(c.send(get("crl/iss")));
  auto crl = c.read();
  BOOST_REQUIRE_EQUAL(crl.status, 200);
  BOOST_TEST(crl.headers.at("content-type") == "application/pkix-crl");
  BOOST_TEST(!crl.body.empty());
  BOOST_REQUIRE(c.send("GET /.well-known/pki/crl/iss HTTP/1.1\r\nIf-None-Match: " +
                       crl.headers.at("etag") + "\r\n\r\n"));
  auto not_modified = c.read();
  BOOST_TEST(not_modified.status == 304);
  BOOST_TEST(not_modified.body.empty());
  // What is not OCSP at all keeps its HTTP statuses, on the same connection.
  BOOST_REQUIRE(c.send(get("ocsp/nobody/0A")));
  BOOST_TEST(c.read().status == 404);
  BOOST_REQUIRE(c.send("DELETE /.well-known/pki/ocsp/iss HTTP/1.1\r\n\r\n"));
  BOOST_TEST(c.read().status == 405);
  BOOST_REQUIRE(c.send(get("other/iss")));
  BOOST_TEST(c.read().status == 404);
  // Connection: close is honoured after the answer.
  BOOST_REQUIRE(c.send(post("0A", false, false)));
  auto last = c.read();
  BOOST_TEST(last.status == 200);
  BOOST_TEST(last.headers.at("connection") == "close");
  BOOST_TEST(c.closed_within(milliseconds(5000)));
}

BOOST_FIXTURE_TEST_CASE(the_fast_path_serves_only_what_is_presigned_and_current, listener_fixture) {
  auto id = responder->cert_id(crypto::ocsp_hash::sha1, "0A");
  BOOST_TEST(cache.presigned_response("iss", id) != nullptr);
  BOOST_TEST(cache.presigned_response_for_serial("iss", "0B") != nullptr);
  BOOST_TEST(cache.presigned_response_for_serial("iss", "0C") == nullptr);     // not issued
  BOOST_TEST(cache.presigned_response_for_serial("nobody", "0A") == nullptr);  // no issuer
  auto sha256 = responder->cert_id(crypto::ocsp_hash::sha256, "0A");
  BOOST_TEST(cache.presigned_response("iss", sha256) == nullptr);  // signed on demand only
  // The projector ahead of the cache: the fast path declines (read-your-writes), the worker
  // path syncs and still answers.
  reader->position.store(3);
  BOOST_TEST(cache.presigned_response_for_serial("iss", "0A") == nullptr);
  raw_client c(port());
  BOOST_REQUIRE(c.send(get("ocsp/iss/0A")));
  BOOST_TEST((ocsp_info(c.read()).singles[0].status == crypto::ocsp_cert_status::good));
  BOOST_TEST(cache.presigned_response_for_serial("iss", "0A") != nullptr);  // synced again
}

BOOST_FIXTURE_TEST_CASE(pipelined_requests_are_answered_in_order, listener_fixture) {
  raw_client c(port());
  BOOST_REQUIRE(c.connected());
  // A worker's answer (nonce) between I/O-thread answers, and a CRL (a worker too), in one
  // write: the answers must come in request order.
  BOOST_REQUIRE(c.send(get("ocsp/iss/0A") + post("0B", true) + get("crl/iss") + get("ocsp/iss/0B") +
                       post("0A", false)));
  BOOST_TEST((ocsp_info(c.read()).singles[0].status == crypto::ocsp_cert_status::good));
  auto second = ocsp_info(c.read());
  BOOST_TEST((second.singles[0].status == crypto::ocsp_cert_status::revoked));
  BOOST_TEST(!second.nonce.empty());
  BOOST_TEST(c.read().headers.at("content-type") == "application/pkix-crl");
  BOOST_TEST((ocsp_info(c.read()).singles[0].status == crypto::ocsp_cert_status::revoked));
  BOOST_TEST((ocsp_info(c.read()).singles[0].status == crypto::ocsp_cert_status::good));
}

BOOST_FIXTURE_TEST_CASE(a_client_that_sends_before_reading_gets_every_answer_in_order,
                        listener_fixture) {
  // 1,000 answers of ~1 KiB: more than the listener lets pile up unwritten (256 KiB), so it
  // holds the rest of the pipeline back until the client reads, then carries on.
  constexpr int n = 1000;
  std::string burst;
  for (int i = 0; i < n; ++i) burst += get(i % 2 == 0 ? "ocsp/iss/0A" : "ocsp/iss/0B");
  raw_client c(port());
  BOOST_REQUIRE(c.connected());
  std::thread sender([&] { c.send(burst); });
  int in_order = 0;
  for (int i = 0; i < n; ++i) {
    auto r = c.read();
    if (r.status != 200) break;
    auto info = crypto::parse_ocsp_response(crypto::bytes(r.body.begin(), r.body.end()));
    const auto want =
        i % 2 == 0 ? crypto::ocsp_cert_status::good : crypto::ocsp_cert_status::revoked;
    if (info.ok() && info->singles.size() == 1 && info->singles[0].status == want) ++in_order;
  }
  sender.join();
  BOOST_TEST(in_order == n);
}

BOOST_FIXTURE_TEST_CASE(slow_and_idle_clients_are_closed_without_holding_up_others,
                        short_timeouts_fixture) {
  raw_client slow(port()), idle(port());
  BOOST_REQUIRE(slow.connected() && idle.connected());
  // The slow client trickles its request a byte at a time, well inside any per-read
  // timeout; the request as a whole must arrive within request_timeout (1.5 s).
  const std::string request = get("ocsp/iss/0A");
  std::thread trickle([&] {
    for (size_t i = 0; i + 4 < request.size(); ++i) {
      if (!slow.send(request.substr(i, 1))) return;
      std::this_thread::sleep_for(milliseconds(100));
    }
  });
  // Meanwhile another client is answered.
  raw_client other(port());
  for (int i = 0; i < 20; ++i) {
    BOOST_REQUIRE(other.send(get("ocsp/iss/0A")));
    BOOST_TEST(other.read().status == 200);
  }
  BOOST_TEST(slow.closed_within(milliseconds(8000)));
  BOOST_TEST(idle.closed_within(milliseconds(8000)));  // never sent a byte: idle_timeout
  trickle.join();
}

BOOST_FIXTURE_TEST_CASE(oversized_and_malformed_requests_get_an_error_and_a_close,
                        listener_fixture) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"GET /.well-known/pki/ocsp/iss/" + std::string(9000, 'A') + " HTTP/1.1\r\n\r\n", 414},
      {"GET /.well-known/pki/crl/iss HTTP/1.1\r\nX-Big: " + std::string(9000, 'b') + "\r\n\r\n",
       431},
      {"POST /.well-known/pki/ocsp/iss HTTP/1.1\r\nContent-Type: application/ocsp-request\r\n"
       "Content-Length: 1000000\r\n\r\n",
       413},
      {"POST /.well-known/pki/ocsp/iss HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"BLAH\r\n\r\n", 400},
  };
  for (const auto& [request, status] : cases) {
    raw_client c(port());
    BOOST_REQUIRE(c.connected());
    BOOST_REQUIRE(c.send(request));
    auto r = c.read();
    BOOST_TEST(r.status == status, "expected " << status << " got " << r.status);
    BOOST_TEST(r.headers["connection"] == "close");
    BOOST_TEST(r.body.find("\"error\"") != std::string::npos);
    BOOST_TEST(c.closed_within(milliseconds(5000)));
  }
  // A malformed OCSP body is OCSP's business: HTTP 200 with malformedRequest.
  raw_client c(port());
  BOOST_REQUIRE(
      c.send("POST /.well-known/pki/ocsp/iss HTTP/1.1\r\n"
             "Content-Type: application/ocsp-request\r\nContent-Length: 3\r\n\r\nabc"));
  auto r = c.read();
  BOOST_TEST(r.status == 200);
  auto info = crypto::parse_ocsp_response(crypto::bytes(r.body.begin(), r.body.end()));
  BOOST_REQUIRE(info.ok());
  BOOST_TEST((info->status == crypto::ocsp_response_status::malformed_request));
}

BOOST_FIXTURE_TEST_CASE(a_few_hundred_connections_are_served_at_once, listener_fixture) {
  constexpr size_t n = 300;
  std::vector<std::unique_ptr<raw_client>> clients;
  for (size_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<raw_client>(port()));
    BOOST_REQUIRE(clients.back()->connected());
  }
  // Every connection sends before any reads: all are open and waiting at once.
  for (size_t i = 0; i < n; ++i)
    BOOST_REQUIRE(clients[i]->send(i % 2 == 0 ? listener_fixture::get("ocsp/iss/0A")
                                              : post("0B", i % 10 == 1)));
  size_t ok = 0;
  for (size_t round = 0; round < 2; ++round) {
    for (size_t i = 0; i < n; ++i) {
      auto r = clients[i]->read();
      if (r.status == 200 && r.headers["content-type"] == "application/ocsp-response") ++ok;
      if (round == 0) BOOST_REQUIRE(clients[i]->send(listener_fixture::get("ocsp/iss/0B")));
    }
  }
  BOOST_TEST(ok == 2 * n);
  BOOST_TEST(listener->open_connections() == n);
  clients.clear();
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (listener->open_connections() != 0 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(milliseconds(20));
  BOOST_TEST(listener->open_connections() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
