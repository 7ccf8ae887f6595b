// Agent key generation end to end: the server never sees the key; an agent fetches its work,
// makes a key and CSR with the openssl CLI and submits the CSR.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/test/unit_test.hpp>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

server_options agent_mode() {
  server_options o;
  o.keygen_mode = "agent";
  return o;
}

/// A P-256 key and CSR for `cn` (SAN DNS:cn) in `dir`; returns the CSR's PEM.
std::string make_csr(const std::string& dir, const std::string& cn) {
  const std::string key = dir + "/" + cn + ".key", csr = dir + "/" + cn + ".csr";
  auto r =
      run_command("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
                  shell_quote(key) + " -out " + shell_quote(csr) + " -subj " +
                  shell_quote("/CN=" + cn) + " -addext " + shell_quote("subjectAltName=DNS:" + cn));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return read_file(csr);
}

/// The CSR with the last byte of its signature flipped: still well-formed DER, wrong signature.
std::string tamper_signature(const std::string& dir, const std::string& csr_pem) {
  write_file(dir + "/good.csr", csr_pem);
  auto to_der = run_command("openssl req -in " + shell_quote(dir + "/good.csr") +
                            " -outform DER -out " + shell_quote(dir + "/bad.der"));
  BOOST_REQUIRE_MESSAGE(to_der.exit_code == 0, to_der.out);
  std::string der = read_file(dir + "/bad.der");
  BOOST_REQUIRE(!der.empty());
  der.back() = static_cast<char>(der.back() ^ 0x01);
  write_file(dir + "/bad.der", der);
  auto to_pem = run_command("openssl req -inform DER -in " + shell_quote(dir + "/bad.der") +
                            " -out " + shell_quote(dir + "/bad.csr"));
  BOOST_REQUIRE_MESSAGE(to_pem.exit_code == 0, to_pem.out);
  auto check = run_command("openssl req -verify -noout -in " + shell_quote(dir + "/bad.csr"));
  // OpenSSL 3.0 exits 0 even when the self-signature check fails; the message tells.
  BOOST_REQUIRE_MESSAGE(check.out.find("verify failure") != std::string::npos,
                        "the tampered CSR still verifies: " + check.out);
  return read_file(dir + "/bad.csr");
}

std::string register_agent(api& client, const std::string& name) {
  auto r = client.post("/api/v1/agents",
                       R"({"name":")" + name + R"(","hostname":")" + name + R"(.internal"})");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  return str(r.json(), "id");
}

std::string create_pending(api& client, const std::string& cn) {
  auto r = client.post("/api/v1/certificates", certificate_body(cn, cn, {}));
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.describe());
  BOOST_TEST(str(r.json(), "status") == "Pending");
  return str(r.json(), "id");
}

std::string submit(api& client, const std::string& agent, const std::string& job,
                   const std::string& cert, const std::string& csr_pem, int& status) {
  rapidjson::Document body(rapidjson::kObjectType);
  auto& a = body.GetAllocator();
  body.AddMember("job_id", rapidjson::Value(job.c_str(), a), a);
  body.AddMember("certificate_id", rapidjson::Value(cert.c_str(), a), a);
  body.AddMember("csr_pem", rapidjson::Value(csr_pem.c_str(), a), a);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  body.Accept(w);
  auto r = client.post("/api/v1/agents/" + agent + "/csr", buf.GetString());
  status = r.status;
  return r.describe();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_keygen)

BOOST_AUTO_TEST_CASE(an_agent_csr_makes_the_certificate_active_with_the_agents_key) {
  temp_dir dir;
  server_process server(dir.path + "/data", agent_mode());
  api client(server);
  const std::string agent = register_agent(client, "edge-1");
  const std::string cert = create_pending(client, "agent.example.test");

  auto job = wait_for_work(client, agent, cert);
  BOOST_TEST(str(job, "common_name") == "agent.example.test");
  const std::string job_id = str(job, "id");
  BOOST_REQUIRE(!job_id.empty());

  int status = 0;
  const auto said =
      submit(client, agent, job_id, cert, make_csr(dir.path, "agent.example.test"), status);
  BOOST_REQUIRE_MESSAGE(status == 202, said);
  wait_for_certificate(client, cert, {"Active"});
  wait_for_versions(client, cert, 1);

  // The issued certificate carries the agent's public key, not one the server made.
  auto pem = client.get("/api/v1/certificates/" + cert + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  write_file(dir.path + "/leaf.pem", str(pem.json(), "cert_pem"));
  auto cert_key =
      run_command("openssl x509 -noout -pubkey -in " + shell_quote(dir.path + "/leaf.pem"));
  auto agent_key =
      run_command("openssl pkey -pubout -in " + shell_quote(dir.path + "/agent.example.test.key"));
  BOOST_REQUIRE_EQUAL(cert_key.exit_code, 0);
  BOOST_TEST(cert_key.out == agent_key.out);
  auto verified = run_command("openssl verify -CAfile " + shell_quote(server.ca_bundle()) + " " +
                              shell_quote(dir.path + "/leaf.pem"));
  BOOST_TEST(verified.exit_code == 0, verified.out);
}

BOOST_AUTO_TEST_CASE(a_csr_with_a_tampered_signature_fails_the_job_and_creates_no_version) {
  temp_dir dir;
  server_process server(dir.path + "/data", agent_mode());
  api client(server);
  const std::string agent = register_agent(client, "edge-2");
  const std::string cert = create_pending(client, "tampered.example.test");
  const std::string job_id = str(wait_for_work(client, agent, cert), "id");

  int status = 0;
  const auto bad = tamper_signature(dir.path, make_csr(dir.path, "tampered.example.test"));
  const auto said = submit(client, agent, job_id, cert, bad, status);
  // Either refused at once or accepted and then failed by the issuance worker; never issued.
  BOOST_TEST_MESSAGE("tampered CSR submission: " << said);
  BOOST_TEST((status == 202 || (status >= 400 && status < 500)), said);
  if (status == 202) {
    wait_for_job(client, job_id, "Failed");
    wait_for_certificate(client, cert, {"Failed"});
  }
  auto versions = client.get("/api/v1/certificates/" + cert + "/versions");
  BOOST_REQUIRE_MESSAGE(versions.status == 200, versions.describe());
  BOOST_TEST(versions.json()["data"].GetArray().Size() == 0u, versions.body);
  BOOST_TEST(str(client.get("/api/v1/certificates/" + cert).json(), "status") != "Active");
}

BOOST_AUTO_TEST_SUITE_END()
