// The network TLS scanner end to end: the built server scans 127.0.0.1/32 where the test runs
// three `openssl s_server` endpoints with certificates it made (plus one closed port; one
// endpoint also sends its issuing CA): exactly those three leaves and that CA are discovered,
// once each, as server-scanner findings at ip:port; a second scan
// adds no duplicates. The scan target's caps (/20, 20 ports) are refused at create, a reserved
// address is refused by the outbound guard without the allow-list, and the periodic loop
// (CERTCTL_NETWORK_SCAN_ENABLED) scans on its own. Every JSON answer is captured for
// spec_check.py.
#define BOOST_TEST_MODULE integration_network_scan
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/tls_endpoint.hpp"
#include "tests/support/subprocess.hpp"

using namespace certctl::integration;
using certctl::testing::run_shell;
using certctl::testing::shell_quote;

namespace {

/// In this test's own port range (56600-56649), so parallel suites never collide.
constexpr int first_port = 56611;
constexpr int closed_port = 56619;  ///< nothing listens here

/// A self-signed certificate and key `dir`/`name`.{pem,key}; returns its SHA-256 fingerprint
/// in lower-case hex.
std::string fingerprint_of(const std::string& pem_file) {
  auto fp = run_shell("openssl x509 -noout -fingerprint -sha256 -in " + shell_quote(pem_file));
  BOOST_REQUIRE(fp.exit_code == 0);
  const auto eq = fp.out.find('=');
  BOOST_REQUIRE(eq != std::string::npos);
  std::string out;
  for (char c : fp.out.substr(eq + 1, 95))
    if (c != ':') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string make_certificate(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  auto r = run_shell(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90"
      " -subj /CN=" +
      name + ".scan.test -keyout " + shell_quote(base + ".key") + " -out " +
      shell_quote(base + ".pem") + " 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return fingerprint_of(base + ".pem");
}

/// A leaf `dir`/`name`.{pem,key} issued by a fresh CA that the endpoint sends after it
/// (`name`.chain.pem); returns the fingerprints of the leaf and of the CA.
std::pair<std::string, std::string> make_chained_certificate(const std::string& dir,
                                                             const std::string& name) {
  const std::string base = dir + "/" + name, ca = base + "-ca";
  const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  auto r = run_shell(
      "openssl req -x509" + ec + " -days 90 -subj /CN=" + name + "-issuing-ca -addext " +
      "basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout " +
      shell_quote(ca + ".key") + " -out " + shell_quote(base + ".chain.pem") + " 2>&1 && " +
      "openssl req" + ec + " -subj /CN=" + name + ".scan.test -keyout " +
      shell_quote(base + ".key") + " -out " + shell_quote(base + ".csr") + " 2>&1 && " +
      "openssl x509 -req -days 30 -in " + shell_quote(base + ".csr") + " -CA " +
      shell_quote(base + ".chain.pem") + " -CAkey " + shell_quote(ca + ".key") +
      " -CAcreateserial -out " + shell_quote(base + ".pem") + " 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return {fingerprint_of(base + ".pem"), fingerprint_of(base + ".chain.pem")};
}

server_options allowing_loopback() {
  server_options o;
  o.extra_env = {{"CERTCTL_OUTBOUND_ALLOW_CIDRS", "127.0.0.1/32"}};
  return o;
}

std::string ports_json(std::initializer_list<int> ports) {
  std::string s = "[";
  for (int p : ports) s += (s.size() > 1 ? "," : "") + std::to_string(p);
  return s + "]";
}

/// The server-scanner discoveries: fingerprint -> source paths of its locations.
std::map<std::string, std::set<std::string>> scanner_findings(api& client, std::int64_t position) {
  auto r = client.get("/api/v1/discovered-certificates?per_page=100", position);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  std::map<std::string, std::set<std::string>> out;
  auto doc = r.json();
  for (const auto& d : doc["data"].GetArray()) {
    BOOST_TEST(str(d, "source") == "server-scanner");
    BOOST_TEST(str(d, "agent_id") == "server-scanner");  // the reference's sentinel
    auto& paths = out[str(d, "fingerprint_sha256")];
    for (const auto& l : d["locations"].GetArray()) paths.insert(str(l, "source_path"));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(network_scan)

BOOST_AUTO_TEST_CASE(three_loopback_tls_servers_are_discovered_once_each) {
  temp_dir dir;
  std::map<std::string, std::string> expected;  // fingerprint -> ip:port
  for (int i = 0; i < 2; ++i)
    expected[make_certificate(dir.path, "ep" + std::to_string(i))] =
        "127.0.0.1:" + std::to_string(first_port + i);
  // The third endpoint sends its issuing CA after the leaf: both are inventoried there.
  const auto [leaf2, ca2] = make_chained_certificate(dir.path, "ep2");
  expected[leaf2] = expected[ca2] = "127.0.0.1:" + std::to_string(first_port + 2);
  server_process server(dir.path + "/data", allowing_loopback());
  api client(server);
  tls_endpoint a(dir.path + "/ep0", first_port), b(dir.path + "/ep1", first_port + 1),
      c(dir.path + "/ep2", first_port + 2);

  auto created =
      client.post("/api/v1/network-scan-targets",
                  R"({"name":"loopback","cidrs":["127.0.0.1/32"],"timeout_ms":2000,"ports":)" +
                      ports_json({first_port, first_port + 1, first_port + 2, closed_port}) + "}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string id = str(created.json(), "id");
  BOOST_TEST(created.json()["enabled"].GetBool() == true);
  BOOST_TEST(created.json()["scan_interval_hours"].GetInt64() == 6);

  auto scanned = client.post("/api/v1/network-scan-targets/" + id + "/scan", "");
  BOOST_REQUIRE_MESSAGE(scanned.status == 202, scanned.describe());
  BOOST_TEST(scanned.json()["certificates_found"].GetInt64() == 4);
  BOOST_TEST(scanned.json()["certificates_new"].GetInt64() == 4);
  BOOST_TEST(scanned.json()["probes"].GetInt64() == 4);
  auto found = scanner_findings(client, scanned.position());
  BOOST_TEST(found.size() == 4u);
  for (const auto& [fp, path] : expected) {
    BOOST_REQUIRE_MESSAGE(found.count(fp) == 1, "not discovered: " << path);
    BOOST_TEST(found[fp] == std::set<std::string>{path});
  }

  // The same endpoints again: seen again, nothing new.
  auto again = client.post("/api/v1/network-scan-targets/" + id + "/scan", "");
  BOOST_REQUIRE_MESSAGE(again.status == 202, again.describe());
  BOOST_TEST(again.json()["certificates_found"].GetInt64() == 4);
  BOOST_TEST(again.json()["certificates_new"].GetInt64() == 0);
  auto after = scanner_findings(client, again.position());
  BOOST_TEST(after.size() == 4u);
  for (const auto& [fp, path] : expected) BOOST_TEST(after[fp] == std::set<std::string>{path});

  // The target carries its last scan; the scans are on the discovery scan list.
  auto target = client.get("/api/v1/network-scan-targets/" + id, again.position());
  BOOST_REQUIRE_MESSAGE(target.status == 200, target.describe());
  BOOST_TEST(target.json()["last_scan_certs_found"].GetInt64() == 4);
  BOOST_TEST(!str(target.json(), "last_scan_at").empty());
  BOOST_TEST(target.json()["last_scan_duration_ms"].GetInt64() >= 0);
  auto scans = client.get("/api/v1/discovery-scans", again.position());
  BOOST_REQUIRE(scans.status == 200);
  BOOST_TEST(scans.json()["total"].GetInt64() == 2);
  auto listed = client.get("/api/v1/network-scan-targets", again.position());
  BOOST_REQUIRE(listed.status == 200);
  BOOST_TEST(listed.json()["total"].GetInt64() == 1);

  auto updated = client.put("/api/v1/network-scan-targets/" + id, R"({"enabled":false})");
  BOOST_REQUIRE_MESSAGE(updated.status == 200, updated.describe());
  BOOST_TEST(updated.json()["enabled"].GetBool() == false);
  BOOST_TEST(client.del("/api/v1/network-scan-targets/" + id).status == 204);
  BOOST_TEST(client.post("/api/v1/network-scan-targets/" + id + "/scan", "").status == 404);
}

BOOST_AUTO_TEST_CASE(ranges_past_the_caps_and_bad_ports_are_refused) {
  temp_dir dir;
  server_process server(dir.path + "/data", allowing_loopback());
  api client(server);
  const auto create = [&client](const std::string& fields) {
    return client.post("/api/v1/network-scan-targets", R"({"name":"t",)" + fields + "}").status;
  };
  BOOST_TEST(create(R"("cidrs":["10.0.0.0/19"])") == 400);  // 8192 addresses
  BOOST_TEST(create(R"("cidrs":["10.0.0.0/20"])") == 201);  // 4096: the cap
  BOOST_TEST(create(R"("cidrs":["fd00::/112"])") == 400);
  BOOST_TEST(create(R"("cidrs":["not-an-address"])") == 400);
  BOOST_TEST(create(R"("cidrs":[])") == 400);
  BOOST_TEST(create(R"("cidrs":["127.0.0.1"],"ports":[0])") == 400);
  BOOST_TEST(create(R"("cidrs":["127.0.0.1"],"ports":[65536])") == 400);
  BOOST_TEST(
      create(
          R"("cidrs":["127.0.0.1"],"ports":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21])") ==
      400);
  BOOST_TEST(
      create(
          R"("cidrs":["127.0.0.1"],"ports":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20])") ==
      201);
  BOOST_TEST(create(R"("ports":[443])") == 400);  // cidrs required
}

BOOST_AUTO_TEST_CASE(a_reserved_address_is_refused_by_the_outbound_guard) {
  temp_dir dir;
  make_certificate(dir.path, "hidden");
  server_process server(dir.path + "/data");  // no CERTCTL_OUTBOUND_ALLOW_CIDRS
  api client(server);
  tls_endpoint hidden(dir.path + "/hidden", first_port + 5);
  auto created = client.post(
      "/api/v1/network-scan-targets",
      R"({"name":"reserved","cidrs":["10.0.0.1/32","127.0.0.1/32"],"timeout_ms":500,"ports":)" +
          ports_json({first_port + 5}) + "}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  auto scanned =
      client.post("/api/v1/network-scan-targets/" + str(created.json(), "id") + "/scan", "");
  BOOST_REQUIRE_MESSAGE(scanned.status == 200, scanned.describe());
  BOOST_TEST(str(scanned.json(), "message").find("2 addresses refused") != std::string::npos,
             scanned.body);
  // Nothing was probed, so the listening endpoint's certificate is not discovered.
  auto found = client.get("/api/v1/discovered-certificates", scanned.position());
  BOOST_REQUIRE(found.status == 200);
  BOOST_TEST(found.json()["total"].GetInt64() == 0);
  auto scans = client.get("/api/v1/discovery-scans", scanned.position());
  BOOST_REQUIRE(scans.status == 200);
  BOOST_REQUIRE(scans.json()["total"].GetInt64() == 1);
  BOOST_TEST(scans.json()["data"][0]["errors_count"].GetInt64() == 2);
}

BOOST_AUTO_TEST_CASE(the_periodic_loop_scans_enabled_targets) {
  temp_dir dir;
  make_certificate(dir.path, "periodic");
  server_options o = allowing_loopback();
  o.extra_env["CERTCTL_NETWORK_SCAN_ENABLED"] = "true";
  o.extra_env["CERTCTL_NETWORK_SCAN_INTERVAL"] = "1s";
  server_process server(dir.path + "/data", o);
  api client(server);
  tls_endpoint endpoint(dir.path + "/periodic", first_port + 6);
  auto created = client.post(
      "/api/v1/network-scan-targets",
      R"({"name":"periodic","cidrs":["127.0.0.1"],"ports":)" + ports_json({first_port + 6}) + "}");
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  const std::string id = str(created.json(), "id");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto t = client.get("/api/v1/network-scan-targets/" + id, created.position());
    BOOST_REQUIRE(t.status == 200);
    if (t.json().HasMember("last_scan_at")) {
      BOOST_TEST(t.json()["last_scan_certs_found"].GetInt64() == 1);
      break;
    }
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                          "the periodic scan never ran: " << t.body);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto found = client.get("/api/v1/discovered-certificates");
  BOOST_REQUIRE(found.status == 200);
  BOOST_TEST(found.json()["total"].GetInt64() == 1);
  BOOST_TEST(str(found.json()["data"][0], "source_path") ==
             "127.0.0.1:" + std::to_string(first_port + 6));
}

BOOST_AUTO_TEST_SUITE_END()
