// Endpoint health checks end to end: the built server probes a real TLS endpoint
// (`openssl s_server` on loopback with certificates the test made): Healthy with the pinned
// certificate, CertMismatch when another is served, Down once the endpoint is gone for the
// threshold, then acknowledged, and both bad transitions alerted through the notification
// system; an address the outbound guard does not allow is never reached.
// Every JSON answer is captured for spec_check.py.
#define BOOST_TEST_MODULE integration_health_check
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/tls_endpoint.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;

namespace {

/// In this test's own port range (56500-56549), so parallel suites never collide.
constexpr int tls_port = 56511;

/// A self-signed certificate and key in `dir`; returns its SHA-256 fingerprint as openssl
/// prints it ("AB:CD:..."), which the API accepts as it is.
std::string make_certificate(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  auto r = run_shell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90"
      " -subj /CN=" +
      name + ".health.test -keyout " + shell_quote(base + ".key") + " -out " +
      shell_quote(base + ".pem") + " 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  auto fp = run_shell("openssl x509 -noout -fingerprint -sha256 -in " + shell_quote(base + ".pem"));
  BOOST_REQUIRE(fp.exit_code == 0);
  const auto eq = fp.out.find('=');
  BOOST_REQUIRE(eq != std::string::npos);
  return fp.out.substr(eq + 1, 95);
}

/// Polls the check (every 100 ms, up to 30 s) until its status is `wanted`.
/// The first read waits for `position` (the create) to be projected.
rapidjson::Document wait_for_status(api& client, const std::string& id, const std::string& wanted,
                                    std::int64_t position = 0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto r = client.get("/api/v1/health-checks/" + id, position);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    if (str(doc, "status") == wanted) return doc;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "health check " << id << " never became " << wanted << ": " << r.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string lower_hex(std::string fp) {
  std::string out;
  for (char c : fp)
    if (c != ':') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

server_options probing_server() {
  server_options o;
  o.extra_env = {{"CERTCTL_HEALTH_CHECK_ENABLED", "true"},
                 {"CERTCTL_HEALTH_CHECK_MIN_INTERVAL_SECONDS", "1"},
                 {"CERTCTL_OUTBOUND_ALLOW_CIDRS", "127.0.0.1/32"},
                 // A configured channel turns on event-driven notifications; delivery is the
                 // notification test's subject, so nothing needs to listen here.
                 {"CERTCTL_SLACK_WEBHOOK_URL", "https://127.0.0.1:56549/services/T0/B0/x"},
                 {"CERTCTL_NOTIFICATION_INTERVAL", "1s"}};
  return o;
}

/// The HealthCheckAlert notifications' subjects, once at least `count` exist (up to 30 s).
std::vector<std::string> wait_for_alerts(api& client, size_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto r = client.get("/api/v1/notifications?per_page=100");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    std::vector<std::string> subjects;
    auto doc = r.json();
    for (const auto& n : doc["data"].GetArray())
      if (str(n, "type") == "HealthCheckAlert") subjects.push_back(str(n, "message"));
    if (subjects.size() >= count) return subjects;
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "fewer than " << count << " health alerts: " << r.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(health_checks)

BOOST_AUTO_TEST_CASE(a_swapped_certificate_is_a_mismatch_a_dead_endpoint_goes_down_and_is_acked) {
  temp_dir dir;
  const std::string fp_a = make_certificate(dir.path, "a");
  const std::string fp_b = make_certificate(dir.path, "b");
  server_process server(dir.path + "/data", probing_server());
  api client(server);

  tls_endpoint endpoint(dir.path + "/a", tls_port);
  auto created =
      client.post("/api/v1/health-checks", R"({"endpoint":"127.0.0.1:)" + std::to_string(tls_port) +
                                               R"(","check_interval_seconds":1,"timeout_ms":2000,)"
                                               R"("failure_threshold":2,"expected_fingerprint":")" +
                                               fp_a + "\"}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string id = str(created.json(), "id");
  BOOST_TEST(str(created.json(), "expected_fingerprint") == lower_hex(fp_a));

  auto healthy = wait_for_status(client, id, "Healthy", created.position());
  BOOST_TEST(str(healthy, "observed_fingerprint") == lower_hex(fp_a));
  BOOST_TEST(!str(healthy, "last_success_at").empty());

  endpoint.stop();
  tls_endpoint swapped(dir.path + "/b", tls_port);
  auto mismatch = wait_for_status(client, id, "CertMismatch");
  BOOST_TEST(str(mismatch, "failure_reason").find(lower_hex(fp_b)) != std::string::npos);
  BOOST_TEST(mismatch["acknowledged"].GetBool() == false);

  swapped.stop();
  auto down = wait_for_status(client, id, "Down");
  BOOST_TEST(down["consecutive_failures"].GetInt64() >= 2);
  BOOST_TEST(!str(down, "failure_reason").empty());

  auto ack = client.post("/api/v1/health-checks/" + id + "/acknowledge",
                         R"({"acknowledged_by":"oncall","note":"maintenance window"})");
  BOOST_REQUIRE_MESSAGE(ack.status == 200, ack.describe());
  BOOST_TEST(ack.json()["acknowledged"].GetBool() == true);
  BOOST_TEST(str(ack.json(), "acknowledged_by") == "oncall");

  // The history has every transition, newest first; the summary counts the check as down.
  auto history = client.get("/api/v1/health-checks/" + id + "/history?limit=1000", ack.position());
  BOOST_REQUIRE_MESSAGE(history.status == 200, history.describe());
  auto h = history.json();
  std::vector<std::string> transitions;
  for (const auto& e : h["data"].GetArray())
    if (e["status_changed"].GetBool()) transitions.push_back(str(e, "status"));
  // Newest first: Down, after CertMismatch, after the first Healthy. (A probe that falls in
  // the instant between the two s_server processes counts one failure, below the threshold.)
  BOOST_REQUIRE(transitions.size() >= 3u);
  BOOST_TEST(transitions.front() == "Down");
  BOOST_TEST(transitions[1] == "CertMismatch");
  BOOST_TEST(transitions.back() == "Healthy");
  auto summary = client.get("/api/v1/health-checks/summary");
  BOOST_REQUIRE(summary.status == 200);
  BOOST_TEST(summary.json()["down"].GetInt64() == 1);
  auto listed = client.get("/api/v1/health-checks?status=Down");
  BOOST_REQUIRE(listed.status == 200);
  BOOST_TEST(listed.json()["total"].GetInt64() == 1);
  auto acked = client.get("/api/v1/health-checks/" + id, ack.position());
  BOOST_TEST(acked.json()["acknowledged"].GetBool() == true);

  // Each bad transition was alerted through the notification system (the first Healthy was
  // not): the mismatch names what was served, the outage why.
  const auto alerts = wait_for_alerts(client, 2);
  BOOST_TEST(alerts.size() == 2u);
  bool mismatch_alert = false, down_alert = false;
  for (const auto& m : alerts) {
    mismatch_alert |= m.find("unexpected certificate") != std::string::npos &&
                      m.find(lower_hex(fp_b)) != std::string::npos;
    down_alert |= m.find("is down") != std::string::npos;
  }
  BOOST_TEST(mismatch_alert);
  BOOST_TEST(down_alert);
}

BOOST_AUTO_TEST_CASE(an_address_outside_the_allowed_ranges_is_refused_by_the_guard) {
  temp_dir dir;
  server_process server(dir.path + "/data", probing_server());
  api client(server);
  // 127.0.0.2 is loopback but outside CERTCTL_OUTBOUND_ALLOW_CIDRS: refused before any
  // connection is tried.
  auto created = client.post("/api/v1/health-checks",
                             R"({"endpoint":"127.0.0.2:)" + std::to_string(tls_port) +
                                 R"(","check_interval_seconds":1,"failure_threshold":1})");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  auto down = wait_for_status(client, str(created.json(), "id"), "Down", created.position());
  BOOST_TEST(str(down, "failure_reason").find("refused_address") != std::string::npos,
             str(down, "failure_reason"));

  // The API's own rules: the interval floor is configuration, the endpoint must be host:port.
  auto bad = client.post("/api/v1/health-checks", R"({"endpoint":"no-port"})");
  BOOST_TEST(bad.status == 400);
  auto missing = client.get("/api/v1/health-checks/hc-missing/history");
  BOOST_TEST(missing.status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
