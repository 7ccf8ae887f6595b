// The SCEP server (RFC 8894) with an in-test client built on infra/crypto's SCEP messages and
// CSRs made by the openssl CLI: GetCACaps, GetCACert, PKCSReq over POST and GetCertInitial
// over GET, the negative suite (wrong challenge, tampered signature, oversized body, unknown
// transaction), Intune dynamic challenges (valid, replayed, expired, stats, trust reload that
// keeps the old pool), the admin profile overview and the SCEP probe.
#define BOOST_TEST_MODULE integration_scep
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/scep_message.hpp"
#include "tests/integration/api.hpp"

using namespace certctl;
using namespace certctl::integration;
using testing::shell_quote;

namespace {

constexpr const char* audience = "https://scep.example.test/scep/intune";

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rsa_key(const std::string& path) {
  auto r = run_command("openssl genrsa -out " + shell_quote(path) + " 2048 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return read_file(path);
}

/// A CSR (DER) for `key_path` with CN=`cn` and, when not empty, a challengePassword.
crypto::bytes make_csr(const std::string& dir, const std::string& key_path, const std::string& cn,
                       const std::string& challenge) {
  const std::string conf = dir + "/req-" + crypto::random_hex(4) + ".cnf";
  std::string text = "[req]\nprompt = no\ndistinguished_name = dn\n";
  if (!challenge.empty()) text += "attributes = attrs\n";
  text += "[dn]\nCN = " + cn + "\n";
  if (!challenge.empty()) text += "[attrs]\nchallengePassword = " + challenge + "\n";
  write_file(conf, text);
  const std::string out = conf + ".der";
  auto r = run_command("openssl req -new -key " + shell_quote(key_path) + " -config " +
                       shell_quote(conf) + " -outform DER -out " + shell_quote(out) + " 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  const std::string der = read_file(out);
  return crypto::bytes(der.begin(), der.end());
}

struct device {
  std::string key_path, key_pem, cert_pem;
};

device new_device(const std::string& dir, const std::string& name) {
  device d;
  d.key_path = dir + "/" + name + ".key";
  d.key_pem = rsa_key(d.key_path);
  auto self = crypto::self_signed_certificate(d.key_pem, name, 1);
  BOOST_REQUIRE(static_cast<bool>(self));
  d.cert_pem = *self;
  return d;
}

/// One server for the whole suite (a server start with four RA keys costs seconds): every
/// case uses its own devices, transaction ids and profiles' counters it alone touches.
struct shared_server {
  temp_dir dir;
  std::string intune_key_path = dir.path + "/intune-connector.key";
  std::string intune_key_pem = rsa_key(intune_key_path);
  std::string intune_cert_path = dir.path + "/intune-connector.pem";
  std::unique_ptr<server_process> server;

  /// A CA for the mTLS route's trust bundle and a client certificate it signed, as files.
  void make_client_ca(const std::string& name) {
    const std::string p = dir.path + "/" + name;
    auto r = run_command(
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout " + shell_quote(p + "-ca.key") +
        " -out " + shell_quote(p + "-ca.pem") + " -subj /CN=" + name +
        "-ca -days 2 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout " +
        shell_quote(p + "-client.key") + " -out " + shell_quote(p + "-client.csr") +
        " -subj /CN=" + name +
        "-client 2>&1 && "
        "openssl x509 -req -in " +
        shell_quote(p + "-client.csr") + " -CA " + shell_quote(p + "-ca.pem") + " -CAkey " +
        shell_quote(p + "-ca.key") + " -CAcreateserial -days 1 -out " +
        shell_quote(p + "-client.pem") + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  }

  shared_server() {
    make_client_ca("fleet");
    make_client_ca("stranger");
    auto cert = crypto::self_signed_certificate(intune_key_pem, "Intune Connector", 30);
    BOOST_REQUIRE(static_cast<bool>(cert));
    write_file(intune_cert_path, *cert);
    server_options o;
    o.keygen_mode = "agent";
    o.extra_env["CERTCTL_SCEP_PROFILES"] = "corp,intune,fleet,strict";
    o.extra_env["CERTCTL_SCEP_PROFILE_STRICT_ISSUER_ID"] = "iss-local";
    o.extra_env["CERTCTL_SCEP_PROFILE_STRICT_CHALLENGE_PASSWORD"] = "strict-secret";
    o.extra_env["CERTCTL_SCEP_PROFILE_STRICT_PROFILE_ID"] = "prof-scep-strict";
    o.extra_env["CERTCTL_SCEP_PROFILE_FLEET_ISSUER_ID"] = "iss-local";
    o.extra_env["CERTCTL_SCEP_PROFILE_FLEET_MTLS_ENABLED"] = "true";
    o.extra_env["CERTCTL_SCEP_PROFILE_FLEET_MTLS_CLIENT_CA_TRUST_BUNDLE_PATH"] =
        dir.path + "/fleet-ca.pem";
    o.extra_env["CERTCTL_SCEP_PROFILE_CORP_ISSUER_ID"] = "iss-local";
    o.extra_env["CERTCTL_SCEP_PROFILE_CORP_CHALLENGE_PASSWORD"] = "corp-secret";
    o.extra_env["CERTCTL_SCEP_PROFILE_CORP_NEXT_CA_CERT_PATH"] = dir.path + "/fleet-ca.pem";
    o.extra_env["CERTCTL_SCEP_PROFILE_INTUNE_ISSUER_ID"] = "iss-local";
    o.extra_env["CERTCTL_SCEP_PROFILE_INTUNE_INTUNE_ENABLED"] = "true";
    o.extra_env["CERTCTL_SCEP_PROFILE_INTUNE_INTUNE_CONNECTOR_CERT_PATH"] = intune_cert_path;
    o.extra_env["CERTCTL_SCEP_PROFILE_INTUNE_INTUNE_AUDIENCE"] = audience;
    o.extra_env["CERTCTL_OUTBOUND_ALLOW_CIDRS"] = "127.0.0.1/32";
    server = std::make_unique<server_process>(dir.path + "/data", o);
  }
};

shared_server& shared() {
  static shared_server s;
  return s;
}

struct scep_fixture {
  shared_server& sh = shared();
  temp_dir& dir = sh.dir;
  const std::string& intune_key_pem = sh.intune_key_pem;
  const std::string& intune_cert_path = sh.intune_cert_path;
  std::unique_ptr<server_process>& server = sh.server;

  std::string path(const std::string& profile) const { return "/scep/" + profile; }

  /// GetCACert: {RA, CA...}.
  std::vector<std::string> ca_certs(const std::string& profile) {
    auto c = server->client("");
    auto r = c->Get(path(profile) + "?operation=GetCACert");
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_EQUAL(r->status, 200);
    BOOST_TEST(r->get_header_value("Content-Type") == "application/x-x509-ca-ra-cert");
    auto certs = crypto::scep_parse_certs_only(crypto::bytes(r->body.begin(), r->body.end()));
    BOOST_REQUIRE_MESSAGE(certs.ok(), (certs.ok() ? std::string() : certs.error().message));
    return *certs;
  }

  crypto::bytes request(const device& d, const std::string& profile, crypto::scep_message_type t,
                        const crypto::bytes& content, const std::string& tid) {
    crypto::scep_request_spec spec;
    spec.type = t;
    spec.transaction_id = tid;
    const auto nonce = crypto::random_bytes(16);
    spec.sender_nonce.assign(nonce.begin(), nonce.end());
    spec.content = content;
    spec.signer_cert_pem = d.cert_pem;
    spec.signer_key_pem = d.key_pem;
    spec.recipients_pem = {ca_certs(profile).front()};
    auto msg = crypto::build_scep_request(spec);
    BOOST_REQUIRE_MESSAGE(msg.ok(), (msg.ok() ? std::string() : msg.error().message));
    return *msg;
  }

  httplib::Result post(const std::string& profile, const crypto::bytes& body) {
    auto c = server->client("");
    return c->Post(path(profile) + "?operation=PKIOperation", std::string(body.begin(), body.end()),
                   "application/x-pki-message");
  }

  /// POST to the mTLS route, presenting `client`'s certificate ("" = none).
  httplib::Result post_mtls(const std::string& profile, const crypto::bytes& body,
                            const std::string& client) {
    std::unique_ptr<httplib::SSLClient> c;
    if (client.empty()) {
      c = std::make_unique<httplib::SSLClient>("127.0.0.1", server->port());
    } else {
      c = std::make_unique<httplib::SSLClient>("127.0.0.1", server->port(),
                                               dir.path + "/" + client + "-client.pem",
                                               dir.path + "/" + client + "-client.key");
    }
    c->set_ca_cert_path(server->ca_bundle().c_str());
    c->enable_server_certificate_verification(true);
    return c->Post("/scep-mtls/" + profile + "?operation=PKIOperation",
                   std::string(body.begin(), body.end()), "application/x-pki-message");
  }

  crypto::scep_cert_rep rep(const device& d, const httplib::Result& r) {
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_MESSAGE(r->status == 200, r->body);
    BOOST_TEST(r->get_header_value("Content-Type") == "application/x-pki-message");
    auto rep = crypto::open_scep_cert_rep(crypto::bytes(r->body.begin(), r->body.end()), d.cert_pem,
                                          d.key_pem);
    BOOST_REQUIRE_MESSAGE(rep.ok(), (rep.ok() ? std::string() : rep.error().message));
    BOOST_TEST(rep->signature_valid);
    return *rep;
  }

  /// PKCSReq for a fresh device; the CertRep.
  crypto::scep_cert_rep enroll(const std::string& profile, const std::string& cn,
                               const std::string& challenge, device* out = nullptr) {
    device d = new_device(dir.path, cn);
    const auto csr = make_csr(dir.path, d.key_path, cn, challenge);
    const std::string tid = crypto::random_hex(16);
    auto r =
        rep(d, post(profile, request(d, profile, crypto::scep_message_type::pkcs_req, csr, tid)));
    BOOST_TEST(r.transaction_id == tid);
    if (out != nullptr) *out = d;
    return r;
  }

  /// An Intune-style challenge: compact JWS RS256 by the connector key.
  std::string token(const std::string& device_id, std::int64_t iat, std::int64_t exp,
                    const std::string& jti) {
    const std::string claims = "{\"iss\":\"intune-connector\",\"sub\":\"" + device_id +
                               "\",\"aud\":\"" + audience + "\",\"iat\":" + std::to_string(iat) +
                               ",\"exp\":" + std::to_string(exp) + ",\"jti\":\"" + jti +
                               "\",\"device_name\":\"" + device_id + "\"}";
    auto flat = crypto::sign_jws(intune_key_pem, "", "", "", claims);
    BOOST_REQUIRE(static_cast<bool>(flat));
    rapidjson::Document d;
    d.Parse(flat->c_str());
    return std::string(d["protected"].GetString()) + "." + d["payload"].GetString() + "." +
           d["signature"].GetString();
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(scep, scep_fixture)

BOOST_AUTO_TEST_CASE(caps_and_ca_certs_describe_the_profile) {
  auto c = server->client("");
  auto caps = c->Get("/scep/corp?operation=GetCACaps");
  BOOST_REQUIRE(caps);
  for (const char* cap :
       {"POSTPKIOperation", "SHA-256", "SHA-512", "AES", "SCEPStandard", "Renewal"})
    BOOST_TEST(caps->body.find(cap) != std::string::npos, cap);
  const auto certs = ca_certs("corp");
  BOOST_REQUIRE_EQUAL(certs.size(), 2u);
  auto ra = crypto::parse_certificate(certs[0]);
  auto ca = crypto::parse_certificate(certs[1]);
  BOOST_REQUIRE(static_cast<bool>(ra && ca));
  BOOST_TEST(ra->key_algorithm == "RSA");
  BOOST_TEST(ca->is_ca);
  BOOST_TEST(ra->issuer_dn == ca->subject_dn);
  // A rollover CA is configured for corp only: GetNextCACert, signed by the RA.
  BOOST_TEST(caps->body.find("GetNextCACert") != std::string::npos);
  auto next = c->Get("/scep/corp?operation=GetNextCACert");
  BOOST_REQUIRE(next);
  BOOST_REQUIRE_EQUAL(next->status, 200);
  BOOST_TEST(next->get_header_value("Content-Type") == "application/x-x509-next-ca-cert");
  write_file(dir.path + "/next.der", next->body);
  write_file(dir.path + "/ra.pem", certs[0]);
  auto shown =
      run_command("openssl cms -verify -inform DER -in " + shell_quote(dir.path + "/next.der") +
                  " -noverify -certfile " + shell_quote(dir.path + "/ra.pem") +
                  " 2>/dev/null | openssl pkcs7 -inform DER -print_certs -noout");
  BOOST_TEST(shown.out.find("fleet-ca") != std::string::npos, shown.out);
  auto intune_caps = c->Get("/scep/intune?operation=GetCACaps");
  BOOST_REQUIRE(intune_caps);
  BOOST_TEST(intune_caps->body.find("GetNextCACert") == std::string::npos);
  auto no_next = c->Get("/scep/intune?operation=GetNextCACert");
  BOOST_REQUIRE(no_next);
  BOOST_TEST(no_next->status == 404);
  auto bad = c->Get("/scep/corp?operation=Nope");
  BOOST_REQUIRE(bad);
  BOOST_TEST(bad->status == 400);
  auto none = c->Get("/scep/elsewhere?operation=GetCACaps");
  BOOST_REQUIRE(none);
  BOOST_TEST(none->status == 404);
}

BOOST_AUTO_TEST_CASE(pkcsreq_issues_through_the_ordinary_path_and_polls_over_get) {
  device d;
  auto r = enroll("corp", "printer-7", "corp-secret", &d);
  BOOST_REQUIRE_EQUAL(r.status, 0);
  BOOST_REQUIRE_EQUAL(r.certificates_pem.size(), 1u);
  auto leaf = crypto::parse_certificate(r.certificates_pem[0]);
  BOOST_REQUIRE(static_cast<bool>(leaf));
  BOOST_TEST(leaf->common_name == "printer-7");
  write_file(dir.path + "/leaf.pem", r.certificates_pem[0]);
  auto v = run_command("openssl verify -CAfile " + shell_quote(server->ca_bundle()) + " " +
                       shell_quote(dir.path + "/leaf.pem"));
  BOOST_TEST(v.exit_code == 0, v.out);

  // The inventory shows it with source SCEP (same issuance path as REST).
  api client(*server);
  auto list = client.get("/api/v1/certificates?per_page=100");
  BOOST_REQUIRE_EQUAL(list.status, 200);
  BOOST_TEST(list.body.find("printer-7") != std::string::npos);
  BOOST_TEST(list.body.find("\"source\":\"SCEP\"") != std::string::npos, list.body);

  // GetCertInitial over GET (base64 message) for the same transaction answers SUCCESS again.
  const std::string tid = r.transaction_id;
  auto poll = request(d, "corp", crypto::scep_message_type::cert_poll, {0x30, 0x00}, tid);
  auto c = server->client("");
  std::string b64;  // percent-encoded so '+', '/' and '=' survive the query string
  write_file(dir.path + "/poll.der", std::string(poll.begin(), poll.end()));
  auto b = run_command("base64 -w0 " + shell_quote(dir.path + "/poll.der"));
  BOOST_REQUIRE(b.exit_code == 0);
  for (char ch : b.out) {
    if (ch == '+')
      b64 += "%2B";
    else if (ch == '/')
      b64 += "%2F";
    else if (ch == '=')
      b64 += "%3D";
    else if (ch != '\n')
      b64 += ch;
  }
  auto g = c->Get("/scep/corp?operation=PKIOperation&message=" + b64);
  auto again = rep(d, g);
  BOOST_TEST(again.status == 0);
  BOOST_REQUIRE_EQUAL(again.certificates_pem.size(), 1u);
  BOOST_TEST(again.certificates_pem[0] == r.certificates_pem[0]);
  // Someone else polling that transaction (signed with another key) gets nothing.
  device other = new_device(dir.path, "eavesdropper");
  auto stolen = rep(other, post("corp", request(other, "corp", crypto::scep_message_type::cert_poll,
                                                {0x30, 0x00}, tid)));
  BOOST_TEST(stolen.status == 2);
  BOOST_TEST(stolen.fail_info == 4);
  BOOST_TEST(stolen.certificates_pem.empty());
}

BOOST_AUTO_TEST_CASE(the_certificate_profile_of_a_scep_profile_applies) {
  api client(*server);
  // ECDSA keys only: the device's RSA CSR is refused by the issuance policy.
  auto made = client.post("/api/v1/profiles",
                          "{\"id\":\"prof-scep-strict\",\"name\":\"SCEP strict\","
                          "\"allowed_key_algorithms\":[{\"algorithm\":\"ECDSA\",\"min_size\":256}],"
                          "\"allowed_ekus\":[\"clientAuth\"]}");
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  auto refused = enroll("strict", "badge-rsa", "strict-secret");
  BOOST_TEST(refused.status == 2);
  BOOST_TEST(refused.fail_info == 2);
  // RSA allowed now: issued, with the profile's EKU.
  auto updated = client.put("/api/v1/profiles/prof-scep-strict",
                            "{\"name\":\"SCEP strict\",\"allowed_key_algorithms\":"
                            "[{\"algorithm\":\"RSA\",\"min_size\":2048}],"
                            "\"allowed_ekus\":[\"clientAuth\"]}");
  BOOST_REQUIRE_MESSAGE(updated.status == 200, updated.describe());
  auto ok = enroll("strict", "badge-rsa-2", "strict-secret");
  BOOST_TEST(ok.status == 0);
  BOOST_REQUIRE_EQUAL(ok.certificates_pem.size(), 1u);
  auto leaf = crypto::parse_certificate(ok.certificates_pem[0]);
  BOOST_REQUIRE(static_cast<bool>(leaf));
  BOOST_REQUIRE_EQUAL(leaf->ext_key_usages.size(), 1u);
  BOOST_TEST(crypto::to_string(leaf->ext_key_usages[0]) == "clientAuth");
}

BOOST_AUTO_TEST_CASE(wrong_challenge_is_failinfo_bad_request) {
  auto r = enroll("corp", "intruder", "guess");
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.fail_info == 2);
  auto none = enroll("corp", "intruder2", "");
  BOOST_TEST(none.status == 2);
  BOOST_TEST(none.fail_info == 2);
}

BOOST_AUTO_TEST_CASE(tampered_signature_is_failinfo_bad_message_check) {
  device d = new_device(dir.path, "tamper");
  const auto csr = make_csr(dir.path, d.key_path, "tamper", "corp-secret");
  auto msg = request(d, "corp", crypto::scep_message_type::pkcs_req, csr, crypto::random_hex(16));
  msg[msg.size() - 5] ^= 0x5A;  // inside the signature value, the DER's last field
  auto r = rep(d, post("corp", msg));
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.fail_info == 1);
  // Garbage that is no PKCS#7 at all cannot be answered with a CertRep: HTTP 400.
  auto junk = post("corp", crypto::bytes{0x30, 0x03, 0x02, 0x01, 0x01});
  BOOST_REQUIRE(junk);
  BOOST_TEST(junk->status == 400);
}

BOOST_AUTO_TEST_CASE(mtls_route_takes_trusted_client_certificates_instead_of_a_challenge) {
  device d = new_device(dir.path, "badge-1");
  const auto csr = make_csr(dir.path, d.key_path, "badge-1", "");
  auto msg = [&] {
    return request(d, "fleet", crypto::scep_message_type::pkcs_req, csr, crypto::random_hex(16));
  };
  auto none = post_mtls("fleet", msg(), "");
  BOOST_REQUIRE(none);
  BOOST_TEST(none->status == 403);
  auto stranger = post_mtls("fleet", msg(), "stranger");
  BOOST_REQUIRE(stranger);
  BOOST_TEST(stranger->status == 403);
  auto ok = rep(d, post_mtls("fleet", msg(), "fleet"));
  BOOST_TEST(ok.status == 0);
  BOOST_TEST(ok.certificates_pem.size() == 1u);
  // The ordinary route of the same profile has no challenge password: no enrollment there.
  auto plain = rep(d, post("fleet", msg()));
  BOOST_TEST(plain.status == 2);
  BOOST_TEST(plain.fail_info == 2);
  // Profiles without mTLS publish no such route.
  auto absent = post_mtls("corp", msg(), "fleet");
  BOOST_REQUIRE(absent);
  BOOST_TEST(absent->status == 404);
}

BOOST_AUTO_TEST_CASE(oversized_body_is_refused) {
  auto r = post("corp", crypto::bytes(crypto::max_scep_message_size + 1, 0x30));
  BOOST_REQUIRE(r);
  BOOST_TEST(r->status == 413);
}

BOOST_AUTO_TEST_CASE(poll_for_an_unknown_transaction_is_bad_cert_id) {
  device d = new_device(dir.path, "nobody");
  auto r = rep(d, post("corp", request(d, "corp", crypto::scep_message_type::cert_poll,
                                       {0x30, 0x00}, "no-such-transaction")));
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.fail_info == 4);
}

BOOST_AUTO_TEST_CASE(intune_challenges_are_verified_replay_checked_and_counted) {
  const auto now = now_s();
  const std::string good = token("laptop-1", now - 10, now + 600, "jti-1");
  device d = new_device(dir.path, "laptop-1");
  const auto msg = request(d, "intune", crypto::scep_message_type::pkcs_req,
                           make_csr(dir.path, d.key_path, "laptop-1", good), "tx-laptop-1");
  auto ok = rep(d, post("intune", msg));
  BOOST_TEST(ok.status == 0);
  BOOST_REQUIRE_EQUAL(ok.certificates_pem.size(), 1u);
  // The same message resent (its answer was lost): the same certificate, not a replay.
  auto resent = rep(d, post("intune", msg));
  BOOST_TEST(resent.status == 0);
  BOOST_REQUIRE_EQUAL(resent.certificates_pem.size(), 1u);
  BOOST_TEST(resent.certificates_pem[0] == ok.certificates_pem[0]);
  // The same token again, for another request: replay.
  auto replay = enroll("intune", "laptop-1", good);
  BOOST_TEST(replay.status == 2);
  BOOST_TEST(replay.fail_info == 2);
  // Expired beyond the skew.
  auto expired = enroll("intune", "laptop-2", token("laptop-2", now - 4000, now - 3000, "jti-2"));
  BOOST_TEST(expired.status == 2);
  // The static password path is closed on this profile.
  auto pw = enroll("intune", "laptop-3", "corp-secret");
  BOOST_TEST(pw.status == 2);
  // CSR <-> claim binding: the token names laptop-4, the CSR asks for laptop-5.
  auto mismatch = enroll("intune", "laptop-5", token("laptop-4", now, now + 600, "jti-4"));
  BOOST_TEST(mismatch.status == 2);

  api client(*server);
  auto stats = client.get("/api/v1/admin/scep/intune/stats");
  BOOST_REQUIRE_EQUAL(stats.status, 200);
  BOOST_TEST(stats.body.find("\"success\":1") != std::string::npos, stats.body);
  BOOST_TEST(stats.body.find("\"replay\":1") != std::string::npos, stats.body);
  BOOST_TEST(stats.body.find("\"expired\":1") != std::string::npos, stats.body);
  BOOST_TEST(stats.body.find("\"claim_mismatch\":1") != std::string::npos, stats.body);
  BOOST_TEST(stats.body.find("\"enabled\":false") != std::string::npos, stats.body);  // corp

  // A viewer may not see it.
  api viewer(*server, viewer_key);
  BOOST_TEST(viewer.get("/api/v1/admin/scep/intune/stats").status == 403);

  // Reload: good file -> 200; bad file -> 500 and the old pool still verifies.
  auto reloaded = client.post("/api/v1/admin/scep/intune/reload-trust", "{\"path_id\":\"intune\"}");
  BOOST_TEST(reloaded.status == 200, reloaded.describe());
  write_file(intune_cert_path, "not a certificate\n");
  auto broken = client.post("/api/v1/admin/scep/intune/reload-trust", "{\"path_id\":\"intune\"}");
  BOOST_TEST(broken.status == 500, broken.describe());
  auto still = enroll("intune", "laptop-6", token("laptop-6", now_s(), now_s() + 600, "jti-6"));
  BOOST_TEST(still.status == 0);
  BOOST_TEST(
      client.post("/api/v1/admin/scep/intune/reload-trust", "{\"path_id\":\"corp\"}").status ==
      409);
  BOOST_TEST(
      client.post("/api/v1/admin/scep/intune/reload-trust", "{\"path_id\":\"nope\"}").status ==
      404);
}

BOOST_AUTO_TEST_CASE(admin_profiles_list_every_profile_with_its_ra) {
  api client(*server);
  auto r = client.get("/api/v1/admin/scep/profiles");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  auto doc = r.json();
  BOOST_REQUIRE_EQUAL(doc["profile_count"].GetInt(), 4);
  for (const auto& p : doc["profiles"].GetArray()) {
    BOOST_TEST(str(p, "issuer_id") == "iss-local");
    BOOST_TEST(str(p, "ra_cert_subject").find("certctl SCEP RA") != std::string::npos);
    BOOST_TEST(p["ra_cert_generated"].GetBool());
    BOOST_TEST(p.HasMember("intune") == (str(p, "path_id") == "intune"));
  }
  BOOST_TEST(r.body.find("corp-secret") == std::string::npos);  // never the password itself
  api op(*server, operator_key);
  BOOST_TEST(op.get("/api/v1/admin/scep/profiles").status == 403);
}

BOOST_AUTO_TEST_CASE(probe_reads_caps_and_ca_through_the_outbound_guard) {
  api client(*server);
  const std::string url = "https://127.0.0.1:" + std::to_string(server->port()) + "/scep/corp";
  auto r = client.post("/api/v1/network-scan/scep-probe", "{\"url\":\"" + url + "\"}");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  auto doc = r.json();
  BOOST_TEST(doc["reachable"].GetBool(), r.body);
  BOOST_TEST(doc["supports_rfc8894"].GetBool());
  BOOST_TEST(doc["supports_aes"].GetBool());
  BOOST_TEST(doc["supports_renewal"].GetBool());
  BOOST_TEST(str(doc, "ca_cert_subject") == "CN=certctl Local Root CA", r.body);
  BOOST_TEST(doc["ca_cert_chain_length"].GetInt() == 2);
  BOOST_TEST(!doc.HasMember("error"), r.body);
  // An address outside the allow-list is refused before any connection.
  auto refused =
      client.post("/api/v1/network-scan/scep-probe", "{\"url\":\"http://10.255.255.1/scep\"}");
  BOOST_REQUIRE_EQUAL(refused.status, 200);
  BOOST_TEST(!refused.json()["reachable"].GetBool());
  BOOST_TEST(refused.body.find("outbound policy") != std::string::npos, refused.body);
  BOOST_TEST(client.post("/api/v1/network-scan/scep-probe", "{}").status == 400);
  auto history = client.get("/api/v1/network-scan/scep-probes");
  BOOST_REQUIRE_EQUAL(history.status, 200);
  BOOST_TEST(history.json()["probe_count"].GetInt() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
