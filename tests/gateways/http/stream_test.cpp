// Streamed response bodies (response::stream) through the real server over loopback: chunks
// arrive as they are produced, every way a stream can end releases what the producer holds,
// and an error never streams.
#include <httplib.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "gateways/http/http_server.hpp"
#include "gateways/http/router.hpp"

using namespace certctl::gateways::http;
using namespace std::chrono_literals;

namespace {

/// What one stream's producer holds; `alive` drops when the server has released it.
struct stream_state {
  explicit stream_state(std::atomic<int>& alive) : alive_(alive) { ++alive_; }
  ~stream_state() { --alive_; }
  stream_state(const stream_state&) = delete;
  stream_state& operator=(const stream_state&) = delete;
  int calls = 0;

 private:
  std::atomic<int>& alive_;
};

/// A plain-HTTP server with streaming routes:
///   /count?n=N  writes "0\n".."N-1\n" one call each, then ends
///   /forever    writes "tick\n" every 20 ms until the client or the server goes
///   /abort      writes one chunk, then aborts
///   /throw      writes one chunk, then throws
///   /denied     an error response that also sets a stream (must not stream)
struct stream_server {
  stream_server() : r(key_store{}) {
    auto stream = [this](std::function<stream_step(stream_state&, const chunk_writer&)> f) {
      return [this, f](request_context&) {
        auto st = std::make_shared<stream_state>(alive);
        return stream_response("text/plain", [st, f](const chunk_writer& w) { return f(*st, w); });
      };
    };
    r.add("GET", "/count", role::none, [this](request_context& c) {
      const int n = std::stoi(c.query("n").value_or("3"));
      auto st = std::make_shared<stream_state>(alive);
      return stream_response("text/plain", [st, n](const chunk_writer& w) {
        if (st->calls == n) return stream_step::end;
        return w(std::to_string(st->calls++) + "\n") ? stream_step::more : stream_step::abort;
      });
    });
    r.add("GET", "/forever", role::none, stream([this](stream_state&, const chunk_writer& w) {
            std::this_thread::sleep_for(20ms);
            if (!w("tick\n")) {
              ++write_failures;
              return stream_step::abort;
            }
            return stream_step::more;
          }));
    r.add("GET", "/abort", role::none, stream([](stream_state& st, const chunk_writer& w) {
            if (st.calls++ > 0) return stream_step::abort;
            w("partial\n");
            return stream_step::more;
          }));
    r.add("GET", "/throw", role::none,
          stream([](stream_state& st, const chunk_writer& w) -> stream_step {
            if (st.calls++ > 0) throw std::runtime_error("producer failed");
            w("partial\n");
            return stream_step::more;
          }));
    r.add("GET", "/denied", role::none, [](request_context&) {
      auto res = error_response(409, "no stream for you");
      res.stream = [](const chunk_writer& w) {
        w("must not appear");
        return stream_step::end;
      };
      return res;
    });
    server_config cfg;
    cfg.tls = false;
    cfg.threads = 8;
    server = std::make_unique<http_server>(cfg, dispatch_to(r));
    BOOST_REQUIRE(server->start().ok());
  }

  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server->port());
    c->set_read_timeout(5);
    return c;
  }

  /// Waits (bounded) until every producer's state has been released.
  bool all_released() const {
    for (int i = 0; i < 200 && alive > 0; ++i) std::this_thread::sleep_for(10ms);
    return alive == 0;
  }

  std::atomic<int> alive{0};
  std::atomic<int> write_failures{0};
  router r;
  std::unique_ptr<http_server> server;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(rest_streaming)

BOOST_AUTO_TEST_CASE(a_stream_delivers_every_chunk_then_ends_normally) {
  stream_server s;
  auto c = s.client();
  auto res = c->Get("/count?n=5");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 200);
  BOOST_TEST(res->body == "0\n1\n2\n3\n4\n");
  BOOST_TEST(res->get_header_value("Transfer-Encoding") == "chunked");
  BOOST_TEST(res->get_header_value("Content-Type") == "text/plain");
  BOOST_TEST(!res->get_header_value("X-Request-Id").empty());
  BOOST_TEST(res->get_header_value("Cache-Control") == "no-store");
  BOOST_TEST(s.all_released());
  // The connection is still good for the next request (the stream ended cleanly).
  auto again = c->Get("/count?n=1");
  BOOST_REQUIRE(again);
  BOOST_TEST(again->body == "0\n");
}

BOOST_AUTO_TEST_CASE(chunks_arrive_before_the_stream_ends) {
  stream_server s;
  auto c = s.client();
  int ticks = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto res = c->Get("/forever", [&](const char* data, size_t n) {
    ticks += static_cast<int>(std::string(data, n).find("tick") != std::string::npos);
    return ticks < 3;  // the client hangs up mid-stream
  });
  BOOST_TEST(!res);  // canceled by us
  BOOST_TEST(ticks == 3);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 3s));
  // The producer notices the client left (its write fails) and its state is released.
  BOOST_TEST(s.all_released());
  BOOST_TEST(s.write_failures >= 1);
}

BOOST_AUTO_TEST_CASE(abort_and_exceptions_cut_the_connection_and_the_server_carries_on) {
  stream_server s;
  for (const char* path : {"/abort", "/throw"}) {
    auto c = s.client();
    std::string got;
    auto res = c->Get(path, [&](const char* data, size_t n) {
      got.append(data, n);
      return true;
    });
    BOOST_TEST(!res, path);  // the body never completed
    BOOST_TEST(got == "partial\n", path);
  }
  BOOST_TEST(s.all_released());
  auto c = s.client();
  auto ok = c->Get("/count?n=2");
  BOOST_REQUIRE(ok);
  BOOST_TEST(ok->body == "0\n1\n");
}

BOOST_AUTO_TEST_CASE(an_error_response_never_streams) {
  stream_server s;
  auto c = s.client();
  auto res = c->Get("/denied");
  BOOST_REQUIRE(res);
  BOOST_TEST(res->status == 409);
  BOOST_TEST(res->get_header_value("Content-Type") == "application/json");
  BOOST_TEST(res->body.find("no stream for you") != std::string::npos);
  BOOST_TEST(res->body.find("must not appear") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(stopping_the_server_ends_open_streams_promptly) {
  stream_server s;
  std::atomic<int> ended{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&] {
      auto c = s.client();
      c->Get("/forever", [](const char*, size_t) { return true; });
      ++ended;
    });
  }
  for (int i = 0; i < 200 && s.alive < 3; ++i) std::this_thread::sleep_for(10ms);
  BOOST_REQUIRE(s.alive == 3);
  const auto t0 = std::chrono::steady_clock::now();
  s.server->stop();
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 2s));
  for (auto& t : clients) t.join();
  BOOST_TEST(ended == 3);
  BOOST_TEST(s.all_released());
}

BOOST_AUTO_TEST_SUITE_END()
