// The event log over HTTP against the built server: GET /api/v1/events (paging, type filters,
// bad positions) and GET /api/v1/events/stream (Server-Sent Events: resume by Last-Event-ID
// with no gap and no duplicate, 400 on a bogus id, a stalled client cut off at its bounded
// buffer while the server stays healthy, prompt shutdown with streams open).
#define BOOST_TEST_MODULE integration_events
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <thread>

#include "tests/integration/api.hpp"

using namespace certctl::integration;
using namespace std::chrono_literals;

namespace {

struct sse_event {
  std::int64_t id = 0;
  std::string type;
  std::string data;
};

struct sse_result {
  std::vector<sse_event> events;
  int keep_alives = 0;
  bool timed_out = false;  ///< the test's deadline ended the read, not the server
  httplib::Error error = httplib::Error::Success;
};

/// Reads an SSE stream until `more` returns false (the client disconnects), the server ends the
/// stream, or `deadline` passes. `before_read` runs on the first received bytes and may block
/// (to simulate a client that stops reading).
sse_result read_sse(httplib::SSLClient& c, const std::string& path, httplib::Headers headers,
                    const std::function<bool(const sse_result&)>& more,
                    std::chrono::seconds deadline = 30s,
                    const std::function<void()>& before_read = {}) {
  sse_result out;
  std::string buf;
  const auto until = std::chrono::steady_clock::now() + deadline;
  bool first = true;
  auto r = c.Get(path.c_str(), headers, [&](const char* data, size_t n) {
    if (first && before_read) before_read();
    first = false;
    buf.append(data, n);
    for (auto end = buf.find("\n\n"); end != std::string::npos; end = buf.find("\n\n")) {
      const std::string block = buf.substr(0, end + 1);
      buf.erase(0, end + 2);
      sse_event e;
      bool comment = false;
      for (size_t at = 0; at < block.size();) {
        const auto nl = block.find('\n', at);
        const std::string line = block.substr(at, nl - at);
        at = nl + 1;
        if (line.rfind("id: ", 0) == 0) e.id = std::stoll(line.substr(4));
        if (line.rfind("event: ", 0) == 0) e.type = line.substr(7);
        if (line.rfind("data: ", 0) == 0) e.data = line.substr(6);
        if (line == ": keep-alive") ++out.keep_alives;
        comment = comment || line.rfind(':', 0) == 0;
      }
      if (!comment) out.events.push_back(std::move(e));
      if (!more(out)) return false;
    }
    if (std::chrono::steady_clock::now() > until) {
      out.timed_out = true;
      return false;
    }
    return true;
  });
  out.error = r.error();
  return out;
}

std::int64_t head_of(api& client) {
  auto r = client.get("/api/v1/events?limit=1");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json()["head"].GetInt64();
}

void expect_error(const api_response& r, int status, const std::string& part) {
  BOOST_TEST(r.status == status, r.describe());
  auto doc = r.json();
  BOOST_TEST(doc.IsObject());
  BOOST_TEST(doc.MemberCount() == 2u);
  BOOST_TEST(str(doc, "error").find(part) != std::string::npos, r.describe());
  BOOST_TEST(str(doc, "request_id") == r.header("X-Request-Id"));
}

/// Creates `n` teams (one team.created event each); returns the last write's position.
std::int64_t make_teams(api& client, int n, const std::string& description = "d") {
  std::int64_t pos = 0;
  for (int i = 0; i < n; ++i) {
    auto r = client.post("/api/v1/teams", R"({"name":"team )" + std::to_string(i) +
                                              R"(","description":")" + description + R"("})");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
    pos = r.position();
  }
  return pos;
}

server_options stream_server(int max_buffered_events = 1000) {
  server_options o;
  o.extra_env["CERTCTL_SSE_KEEPALIVE_MS"] = "200";
  o.extra_env["CERTCTL_SSE_MAX_BUFFERED_EVENTS"] = std::to_string(max_buffered_events);
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(event_log_api)

BOOST_AUTO_TEST_CASE(pages_follow_the_log_and_filter_by_type) {
  temp_dir dir;
  server_process server(dir.path + "/data", stream_server());
  api admin(server);
  api viewer(server, viewer_key);
  make_teams(admin, 7);
  auto owner = admin.post("/api/v1/owners", R"({"name":"o1","email":"o1@example.test"})");
  BOOST_REQUIRE_MESSAGE(owner.status == 201, owner.describe());
  const std::int64_t head = head_of(viewer);
  BOOST_TEST(head >= 9);  // the bootstrap issuer, 7 teams, 1 owner

  // Pages of 3 from the start cover 1..head exactly once, in order.
  std::int64_t after = 0, expected = 1;
  for (int pages = 0; after < head && pages < 100; ++pages) {
    auto r = viewer.get("/api/v1/events?limit=3&after=" + std::to_string(after));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    BOOST_TEST(doc["head"].GetInt64() == head);
    BOOST_TEST(doc["data"].Size() <= 3u);
    for (const auto& e : doc["data"].GetArray()) {
      BOOST_TEST(e["position"].GetInt64() == expected++);
      for (const char* field : {"stream_id", "event_id", "type", "occurred_at", "principal",
                                "correlation_id", "causation_id", "prev_hash", "hash"})
        BOOST_TEST(e[field].IsString(), field);
      BOOST_TEST(e["payload"].IsObject());
    }
    after = doc["next_after"].GetInt64();
  }
  BOOST_TEST(expected == head + 1);
  auto tail = viewer.get("/api/v1/events?after=" + std::to_string(head));
  BOOST_TEST(tail.json()["data"].Size() == 0u);
  BOOST_TEST(tail.json()["next_after"].GetInt64() == head);

  // Type filters: exact names, repeated or comma-separated, the same answer either way.
  auto teams = viewer.get("/api/v1/events?type=team.created&limit=1000");
  BOOST_TEST(teams.json()["data"].Size() == 7u);
  auto both = viewer.get("/api/v1/events?type=team.created,owner.created");
  auto repeated = viewer.get("/api/v1/events?type=team.created&type=owner.created");
  BOOST_TEST(both.json()["data"].Size() == 8u);
  BOOST_TEST(repeated.body == both.body);
  BOOST_TEST(viewer.get("/api/v1/events?type=team").json()["data"].Size() == 0u);
  auto two = viewer.get("/api/v1/events?type=team.created&limit=2").json();
  BOOST_TEST(two["data"].Size() == 2u);
  BOOST_TEST(two["next_after"].GetInt64() == two["data"][1]["position"].GetInt64());

  // Bad positions and limits are 400s; a limit above 1000 is capped.
  expect_error(viewer.get("/api/v1/events?after=-1"), 400, "after");
  expect_error(viewer.get("/api/v1/events?after=abc"), 400, "after");
  expect_error(viewer.get("/api/v1/events?after=" + std::to_string(head + 50)), 400, "beyond");
  expect_error(viewer.get("/api/v1/events?limit=0"), 400, "limit");
  BOOST_TEST(viewer.get("/api/v1/events?limit=5000").status == 200);
  api nobody(server, "");
  expect_error(nobody.get("/api/v1/events"), 401, "API key");
}

BOOST_AUTO_TEST_CASE(stream_resumes_from_last_event_id_without_gap_or_duplicate) {
  temp_dir dir;
  server_process server(dir.path + "/data", stream_server());
  api admin(server);
  make_teams(admin, 10);

  // First client: reads five events, then goes away mid-stream.
  auto c1 = server.client(viewer_key);
  auto first = read_sse(*c1, "/api/v1/events/stream", {},
                        [](const sse_result& r) { return r.events.size() < 5; });
  BOOST_REQUIRE_EQUAL(first.events.size(), 5u);
  BOOST_TEST(!first.timed_out);
  for (size_t i = 0; i < first.events.size(); ++i) {
    BOOST_TEST(first.events[i].id == static_cast<std::int64_t>(i + 1));
    auto doc = rapidjson::Document();
    doc.Parse(first.events[i].data.c_str());
    BOOST_TEST(doc["position"].GetInt64() == first.events[i].id);
    BOOST_TEST(str(doc, "type") == first.events[i].type);
  }
  // More happens while it is away.
  make_teams(admin, 5);
  const std::int64_t head = head_of(admin);

  // Reconnect with Last-Event-ID: exactly the rest, then live events as they commit.
  auto c2 = server.client(viewer_key);
  std::atomic<bool> wrote_live{false};
  std::thread writer;
  auto rest =
      read_sse(*c2, "/api/v1/events/stream", {{"Last-Event-ID", "5"}}, [&](const sse_result& r) {
        if (!r.events.empty() && r.events.back().id == head && !wrote_live) {
          wrote_live = true;
          writer = std::thread([&] { make_teams(admin, 1); });
        }
        return r.events.empty() || r.events.back().id < head + 1;
      });
  if (writer.joinable()) writer.join();
  BOOST_TEST(!rest.timed_out);
  BOOST_REQUIRE_EQUAL(rest.events.size(), static_cast<size_t>(head + 1 - 5));
  for (size_t i = 0; i < rest.events.size(); ++i)
    BOOST_TEST(rest.events[i].id == static_cast<std::int64_t>(6 + i));
  BOOST_TEST(rest.events.back().type == "team.created");

  // ?after= works the same; a type filter drops the rest but keeps positions as ids.
  auto c3 = server.client(viewer_key);
  auto filtered = read_sse(*c3, "/api/v1/events/stream?after=0&type=team.created", {},
                           [](const sse_result& r) { return r.events.size() < 3; });
  BOOST_REQUIRE_EQUAL(filtered.events.size(), 3u);
  BOOST_TEST(filtered.events[0].id == 2);  // position 1 is the bootstrap issuer
  for (const auto& e : filtered.events) BOOST_TEST(e.type == "team.created");

  // Idle streams carry keep-alive comments (every 200 ms here).
  auto c4 = server.client(viewer_key);
  auto idle = read_sse(*c4, "/api/v1/events/stream?after=" + std::to_string(head + 1), {},
                       [](const sse_result& r) { return r.keep_alives < 2; });
  BOOST_TEST(idle.keep_alives == 2);
  BOOST_TEST(idle.events.empty());
}

BOOST_AUTO_TEST_CASE(bogus_last_event_id_is_400) {
  temp_dir dir;
  server_process server(dir.path + "/data", stream_server());
  api viewer(server, viewer_key);
  const auto head = head_of(viewer);
  auto c = server.client(viewer_key);
  for (const std::string& bogus :
       std::vector<std::string>{"abc", "-1", "1.5", "0x1", std::to_string(head + 1)}) {
    auto r = c->Get("/api/v1/events/stream", {{"Last-Event-ID", bogus}});
    BOOST_REQUIRE(r);
    api_response a;
    a.status = r->status;
    a.body = r->body;
    a.headers = r->headers;
    expect_error(a, 400, "Last-Event-ID");
  }
  expect_error(viewer.get("/api/v1/events/stream?after=x"), 400, "after");
  api nobody(server, "");
  expect_error(nobody.get("/api/v1/events/stream"), 401, "API key");
}

BOOST_AUTO_TEST_CASE(stalled_client_is_cut_off_at_its_bounded_buffer) {
  temp_dir dir;
  server_process server(dir.path + "/data", stream_server(20));
  api admin(server);
  const std::int64_t start = head_of(admin);

  // A client with a tiny receive window that stops reading after the first bytes.
  auto stalled = server.client(viewer_key);
  stalled->set_socket_options([](int sock) {
    int size = 4096;
    ::setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  });
  stalled->set_read_timeout(10);
  std::atomic<bool> release{false};
  sse_result got;
  std::thread reader([&] {
    got = read_sse(
        *stalled, "/api/v1/events/stream?after=" + std::to_string(start), {},
        [](const sse_result&) { return true; }, 60s,
        [&] {
          while (!release) std::this_thread::sleep_for(10ms);
        });
  });
  std::this_thread::sleep_for(300ms);
  // ~16 KiB frames, ~5 MiB in all: more than the socket buffers (large on loopback) plus 20
  // queued events can hold, so the server must give up on this client.
  const std::int64_t last = make_teams(admin, 300, std::string(16000, 'x'));
  // The server keeps serving everyone else meanwhile.
  BOOST_TEST(admin.get("/health").status == 200);
  BOOST_TEST(admin.get("/api/v1/events?limit=5").status == 200);
  std::this_thread::sleep_for(500ms);
  release = true;
  reader.join();

  // It got a gap-free prefix, then the server ended the stream instead of buffering the rest.
  BOOST_TEST(!got.timed_out);
  BOOST_TEST(got.events.size() < static_cast<size_t>(last - start),
             "stream ended with " << httplib::to_string(got.error));
  for (size_t i = 0; i < got.events.size(); ++i)
    BOOST_TEST(got.events[i].id == start + 1 + static_cast<std::int64_t>(i));
  auto health = admin.get("/health");
  BOOST_TEST(health.status == 200, health.describe() << "\nserver log:\n" << server.logs());

  // It resumes where it was cut off and gets the rest.
  const std::int64_t resume_from = got.events.empty() ? start : got.events.back().id;
  auto again = server.client(viewer_key);
  auto rest =
      read_sse(*again, "/api/v1/events/stream", {{"Last-Event-ID", std::to_string(resume_from)}},
               [&](const sse_result& r) { return r.events.empty() || r.events.back().id < last; });
  BOOST_REQUIRE(!rest.events.empty());
  BOOST_TEST(rest.events.front().id == resume_from + 1);
  BOOST_TEST(rest.events.back().id == last);
  BOOST_TEST(rest.events.size() == static_cast<size_t>(last - resume_from));
}

BOOST_AUTO_TEST_CASE(shutdown_ends_open_streams_promptly) {
  temp_dir dir;
  server_process server(dir.path + "/data", stream_server());
  std::vector<std::thread> readers;
  std::atomic<int> ended{0};
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      auto c = server.client(viewer_key);
      read_sse(
          *c, "/api/v1/events/stream", {}, [](const sse_result&) { return true; }, 60s);
      ++ended;
    });
  }
  std::this_thread::sleep_for(500ms);
  const auto t0 = std::chrono::steady_clock::now();
  const int status = server.stop();
  const auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST(WIFEXITED(status));
  BOOST_TEST(WEXITSTATUS(status) == 0);
  BOOST_TEST((took < 5s), "shutdown took "
                              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                              << " ms");
  for (auto& t : readers) t.join();
  BOOST_TEST(ended == 3);
}

BOOST_AUTO_TEST_SUITE_END()
