// CRL and OCSP of the built server, checked with real clients as a relying party would:
// `openssl ocsp -url http://...` against the plain-HTTP PKI port, `openssl crl` and
// `openssl verify -crl_check` on the CRL it serves, before and after a revocation through the
// API; then the bad input of DESIGN §10 (malformed, truncated, foreign, oversized, unsupported).
#define BOOST_TEST_MODULE integration_pki
#include <boost/test/unit_test.hpp>
#include <regex>

#include "tests/integration/api.hpp"
#include "tests/integration/test_steps.hpp"

using namespace certctl::integration;

namespace {

const std::string ocsp_path = "/.well-known/pki/ocsp/iss-local";
const std::string crl_path = "/.well-known/pki/crl/iss-local";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

int pki_port(const server_process& server) {
  std::smatch m;
  const std::string logs = server.logs();
  BOOST_REQUIRE_MESSAGE(
      std::regex_search(logs, m,
                        std::regex("PKI \\(CRL, OCSP\\) on http://127\\.0\\.0\\.1:(\\d+)")),
      logs);
  return std::stoi(m[1]);
}

/// The server and a plain-HTTP client for its PKI port.
struct pki_fixture {
  temp_dir dir;
  server_process server{dir.path + "/data", [] {
                          server_options o;
                          o.extra_env["CERTCTL_PKI_HTTP_PORT"] = "0";
                          return o;
                        }()};
  httplib::Client http{"127.0.0.1", pki_port(server)};
  api client{server};

  pki_fixture() { http.set_tcp_nodelay(true); }
  std::string path(const std::string& name) const { return dir.path + "/" + name; }

  /// Issues a certificate, writes leaf.pem and ca.pem; returns the certificate id.
  std::string issue(const std::string& name) {
    const std::string id = issue_active(
        client, certificate_body(name, name + ".example.test", {(name + ".example.test").c_str()}));
    auto pem = client.get("/api/v1/certificates/" + id + "/export/pem");
    BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
    write_file(path(name + ".pem"), str(pem.json(), "cert_pem"));
    write_file(path("ca.pem"), read_file(server.ca_bundle()));
    return id;
  }

  std::string ocsp_cli(const std::string& leaf) {
    auto r = run_command("openssl ocsp -issuer " + path("ca.pem") + " -cert " + path(leaf) +
                         " -url http://127.0.0.1:" + std::to_string(pki_port(server)) + ocsp_path +
                         " -CAfile " + path("ca.pem"));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    return r.out;
  }

  /// Fetches the CRL, stores it as crl.pem; returns `openssl crl -text` of it.
  std::string fetch_crl() {
    auto r = http.Get(crl_path.c_str());
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_EQUAL(r->status, 200);
    BOOST_TEST(r->get_header_value("Content-Type") == "application/pkix-crl");
    BOOST_TEST(!r->get_header_value("ETag").empty());
    BOOST_TEST(contains(r->get_header_value("Cache-Control"), "max-age="));
    write_file(path("crl.der"), r->body);
    auto text = run_command("openssl crl -inform DER -in " + path("crl.der") + " -noout -text");
    BOOST_REQUIRE_MESSAGE(text.exit_code == 0, text.out);
    auto pem = run_command("openssl crl -inform DER -in " + path("crl.der") + " -out " +
                           path("crl.pem") + " -CAfile " + path("ca.pem"));
    BOOST_REQUIRE_MESSAGE(pem.exit_code == 0 && contains(pem.out, "verify OK"), pem.out);
    return text.out;
  }

  auto verify_with_crl(const std::string& leaf) {
    return run_command("openssl verify -crl_check -CAfile " + path("ca.pem") + " -CRLfile " +
                       path("crl.pem") + " " + path(leaf));
  }

  httplib::Result post_ocsp(const std::string& body, const char* type = "application/ocsp-request",
                            const std::string& where = ocsp_path) {
    return http.Post(where.c_str(), body, type);
  }
};

long crl_number(const std::string& text) {
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(text, m, std::regex("CRL Number: *\\n *(\\d+)")), text);
  return std::stol(m[1]);
}

/// OCSPResponseStatus of a DER response (the ENUMERATED after the outer SEQUENCE header).
int response_status(const std::string& der) {
  BOOST_REQUIRE(der.size() >= 5);
  const size_t at = (static_cast<unsigned char>(der[1]) & 0x80) ? 2 + (der[1] & 0x7f) : 2;
  BOOST_REQUIRE(der.size() > at + 2);
  return static_cast<unsigned char>(der[at + 2]);
}

}  // namespace

BOOST_AUTO_TEST_CASE(intermediates_serve_ocsp_and_crl_also_when_retiring) {
  pki_fixture f;
  auto ca = f.client.post("/api/v1/issuers/iss-local/intermediates",
                          R"({"name":"Issuing CA","parent_ca_id":"iss-local"})");
  BOOST_REQUIRE_MESSAGE(ca.status == 201, ca.describe());
  const std::string int1 = str(ca.json(), "id");
  write_file(f.path("int1.pem"), str(ca.json(), "certificate_pem"));
  write_file(f.path("ca.pem"), read_file(f.server.ca_bundle()));
  auto issuer = f.client.post("/api/v1/issuers", R"({"name":"Issuing","type":"GenericCA",
      "config":{"intermediate_id":")" + int1 + R"("}})");
  BOOST_REQUIRE_MESSAGE(issuer.status == 201, issuer.describe());
  std::string body = certificate_body("leaf", "leaf.example.test", {"leaf.example.test"});
  body.replace(body.find("\"iss-local\""), 11, "\"" + str(issuer.json(), "id") + "\"");
  const std::string id = issue_active(f.client, body);
  auto pem = f.client.get("/api/v1/certificates/" + id + "/export/pem");
  BOOST_REQUIRE_MESSAGE(pem.status == 200, pem.describe());
  write_file(f.path("leaf.pem"), str(pem.json(), "cert_pem"));
  auto ext = run_command("openssl x509 -in " + f.path("leaf.pem") + " -noout -text");
  BOOST_TEST(contains(ext.out, "/.well-known/pki/ocsp/" + int1), ext.out);

  const std::string ocsp_url =
      "http://127.0.0.1:" + std::to_string(pki_port(f.server)) + "/.well-known/pki/ocsp/" + int1;
  auto ocsp = [&] {
    // The responder is issued by int1, which chains to the root in ca.pem.
    auto r = run_command("openssl ocsp -issuer " + f.path("int1.pem") + " -cert " +
                         f.path("leaf.pem") + " -url " + ocsp_url + " -CAfile " + f.path("ca.pem") +
                         " -verify_other " + f.path("int1.pem"));
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
    BOOST_TEST(contains(r.out, "Response verify OK"), r.out);
    return r.out;
  };
  BOOST_TEST(contains(ocsp(), "leaf.pem: good"));
  // The root answers unauthorized for int1's certificates, as before.
  auto foreign = run_command(
      "openssl ocsp -issuer " + f.path("int1.pem") + " -cert " + f.path("leaf.pem") +
      " -url http://127.0.0.1:" + std::to_string(pki_port(f.server)) + ocsp_path + " -noverify");
  BOOST_TEST(contains(foreign.out, "unauthorized"), foreign.out);

  auto revoked =
      f.client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  auto seen = f.client.get("/api/v1/certificates/" + id, revoked.position());
  BOOST_REQUIRE_EQUAL(str(seen.json(), "status"), "Revoked");
  auto now_revoked = ocsp();
  BOOST_TEST(contains(now_revoked, "leaf.pem: revoked"), now_revoked);
  BOOST_TEST(contains(now_revoked, "keyCompromise"), now_revoked);

  // int1's CRL: signed with int1's key, numbered on the intermediate entity.
  auto crl_of = [&] {
    auto r = f.http.Get(("/.well-known/pki/crl/" + int1).c_str());
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_EQUAL(r->status, 200);
    write_file(f.path("int1.crl"), r->body);
    auto text = run_command("openssl crl -inform DER -in " + f.path("int1.crl") + " -noout -text");
    BOOST_REQUIRE_MESSAGE(text.exit_code == 0, text.out);
    auto checked = run_command("openssl crl -inform DER -in " + f.path("int1.crl") +
                               " -noout -CAfile " + f.path("int1.pem"));
    BOOST_TEST(contains(checked.out, "verify OK"), checked.out);
    return text.out;
  };
  const std::string text = crl_of();
  auto serial = run_command("openssl x509 -in " + f.path("leaf.pem") + " -noout -serial");
  const std::string hex =
      serial.out.substr(serial.out.find('=') + 1, serial.out.find('\n') - serial.out.find('=') - 1);
  BOOST_TEST(contains(text, "Serial Number: " + hex), text << "\nserial " << hex);
  BOOST_TEST(contains(text, "Key Compromise"), text);
  const long number = crl_number(text);
  BOOST_TEST(number >= 1);
  auto cache = f.client.get("/api/v1/admin/crl/cache");
  BOOST_TEST(contains(cache.body, "\"issuer_id\":\"" + int1 + "\""), cache.body);

  // Retiring: it signs nothing new, but keeps answering for what it issued.
  auto retiring =
      f.client.post("/api/v1/intermediates/" + int1 + "/retire", R"({"confirm":false})");
  BOOST_REQUIRE_MESSAGE(retiring.status == 200, retiring.describe());
  f.client.get("/api/v1/intermediates/" + int1, retiring.position());
  BOOST_TEST(contains(ocsp(), "leaf.pem: revoked"));
  BOOST_TEST(crl_number(crl_of()) >= number);
  auto missing = f.http.Get("/.well-known/pki/crl/ica-nope");
  BOOST_REQUIRE(missing);
  BOOST_TEST(missing->status == 404);
}

BOOST_AUTO_TEST_CASE(ocsp_and_crl_follow_a_revocation_through_the_api) {
  pki_fixture f;
  const std::string id = f.issue("leaf");
  auto ext = run_command("openssl x509 -in " + f.path("leaf.pem") + " -noout -text");
  BOOST_TEST(
      contains(ext.out, "http://127.0.0.1:" + std::to_string(pki_port(f.server)) + crl_path));

  auto good = f.ocsp_cli("leaf.pem");
  BOOST_TEST(contains(good, "Response verify OK"), good);
  BOOST_TEST(contains(good, "leaf.pem: good"), good);
  const long before = crl_number(f.fetch_crl());
  auto accepted = f.verify_with_crl("leaf.pem");
  BOOST_TEST(accepted.exit_code == 0, accepted.out);

  auto revoked =
      f.client.post("/api/v1/certificates/" + id + "/revoke", R"({"reason":"keyCompromise"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  auto seen = f.client.get("/api/v1/certificates/" + id, revoked.position());
  BOOST_REQUIRE_EQUAL(str(seen.json(), "status"), "Revoked");

  auto now_revoked = f.ocsp_cli("leaf.pem");
  BOOST_TEST(contains(now_revoked, "leaf.pem: revoked"), now_revoked);
  BOOST_TEST(contains(now_revoked, "keyCompromise"), now_revoked);
  const std::string text = f.fetch_crl();
  BOOST_TEST(crl_number(text) > before);
  BOOST_TEST(contains(text, "Key Compromise"), text);
  auto rejected = f.verify_with_crl("leaf.pem");
  BOOST_TEST(rejected.exit_code != 0, rejected.out);
  BOOST_TEST(contains(rejected.out, "certificate revoked"), rejected.out);

  // The operators' view: admin only, one row for the local CA with the new number.
  auto cache = f.client.get("/api/v1/admin/crl/cache");
  BOOST_REQUIRE_MESSAGE(cache.status == 200, cache.describe());
  auto doc = cache.json();
  BOOST_TEST(doc["row_count"].GetInt() >= 1);
  BOOST_TEST(doc["cache_rows"][0]["cache_present"].GetBool());
  BOOST_TEST(doc["cache_rows"][0]["crl_number"].GetInt64() == crl_number(text));
  api viewer(f.server, viewer_key);
  BOOST_TEST(viewer.get("/api/v1/admin/crl/cache").status == 403);
}

BOOST_AUTO_TEST_CASE(get_forms_caching_and_the_https_port) {
  pki_fixture f;
  f.issue("leaf");
  auto req = run_command("openssl ocsp -issuer " + f.path("ca.pem") + " -cert " +
                         f.path("leaf.pem") + " -reqout " + f.path("req.der") + " -no_nonce");
  BOOST_REQUIRE_MESSAGE(req.exit_code == 0, req.out);
  auto b64 = run_command("base64 -w0 " + f.path("req.der"));
  auto get = f.http.Get((ocsp_path + "/" + b64.out).c_str());
  BOOST_REQUIRE(get);
  BOOST_TEST(get->status == 200);
  BOOST_TEST(get->get_header_value("Content-Type") == "application/ocsp-response");
  BOOST_TEST(response_status(get->body) == 0);
  auto serial = run_command("openssl x509 -in " + f.path("leaf.pem") + " -noout -serial");
  const std::string hex = serial.out.substr(serial.out.find('=') + 1, 32);
  auto by_serial = f.http.Get((ocsp_path + "/" + hex).c_str());
  BOOST_REQUIRE(by_serial);
  write_file(f.path("s.der"), by_serial->body);
  auto text = run_command("openssl ocsp -respin " + f.path("s.der") + " -resp_text -CAfile " +
                          f.path("ca.pem"));
  BOOST_TEST(contains(text.out, "Cert Status: good"), text.out);
  BOOST_TEST(contains(text.out, "Response verify OK"), text.out);

  auto crl = f.http.Get(crl_path.c_str());
  BOOST_REQUIRE(crl);
  auto again = f.http.Get(crl_path.c_str(), {{"If-None-Match", crl->get_header_value("ETag")}});
  BOOST_REQUIRE(again);
  BOOST_TEST(again->status == 304);
  // The HTTPS port serves the same paths, without credentials.
  auto https = f.server.client("");
  auto over_tls = https->Get(crl_path.c_str());
  BOOST_REQUIRE(over_tls);
  BOOST_TEST(over_tls->status == 200);
  BOOST_TEST(over_tls->body == crl->body);
  // ...while the plain port serves nothing else.
  auto api_on_plain = f.http.Get("/api/v1/certificates");
  BOOST_REQUIRE(api_on_plain);
  BOOST_TEST(api_on_plain->status == 404);
}

BOOST_AUTO_TEST_CASE(bad_input_gets_rfc_statuses_never_a_crash) {
  pki_fixture f;
  f.issue("leaf");
  auto mk = run_command("openssl ocsp -issuer " + f.path("ca.pem") + " -cert " +
                        f.path("leaf.pem") + " -reqout " + f.path("req.der") + " && " +
                        "openssl ocsp -sha224 -issuer " + f.path("ca.pem") + " -cert " +
                        f.path("leaf.pem") + " -reqout " + f.path("sha224.der") + " -no_nonce && " +
                        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes " +
                        "-keyout " + f.path("other.key") + " -out " + f.path("other.pem") +
                        " -subj /CN=Other -days 1 && openssl ocsp -issuer " + f.path("other.pem") +
                        " -serial 0x0A -reqout " + f.path("other.der") + " -no_nonce");
  BOOST_REQUIRE_MESSAGE(mk.exit_code == 0, mk.out);
  const std::string good = read_file(f.path("req.der"));
  auto status_of = [&](const std::string& body) {
    auto r = f.post_ocsp(body);
    BOOST_REQUIRE(r);
    BOOST_REQUIRE_EQUAL(r->status, 200);
    return response_status(r->body);
  };
  BOOST_TEST(status_of(good) == 0);                             // successful
  BOOST_TEST(status_of("not an OCSP request") == 1);            // malformedRequest
  BOOST_TEST(status_of(good.substr(0, good.size() - 7)) == 1);  // truncated
  BOOST_TEST(status_of(read_file(f.path("sha224.der"))) == 1);  // unsupported hash
  BOOST_TEST(status_of(read_file(f.path("other.der"))) == 6);   // unauthorized
  for (size_t cut = 0; cut < good.size(); cut += 3) status_of(good.substr(0, cut));

  auto unknown = f.post_ocsp(good, "application/ocsp-request", "/.well-known/pki/ocsp/iss-nope");
  BOOST_REQUIRE(unknown);
  BOOST_TEST(unknown->status == 404);
  auto no_crl = f.http.Get("/.well-known/pki/crl/iss-nope");
  BOOST_REQUIRE(no_crl);
  BOOST_TEST(no_crl->status == 404);
  auto oversized = f.post_ocsp(std::string(200 * 1024, '\x30'));
  BOOST_TEST((!oversized || oversized->status == 413));  // refused before or after reading
  auto over_limit = f.post_ocsp(std::string(20 * 1024, '\x30'));
  BOOST_REQUIRE(over_limit);
  BOOST_TEST(over_limit->status == 413);
  auto wrong_type = f.post_ocsp(good, "application/json");
  BOOST_REQUIRE(wrong_type);
  BOOST_TEST(wrong_type->status == 415);
  auto bad_b64 = f.http.Get((ocsp_path + "/MII!!!").c_str());
  BOOST_REQUIRE(bad_b64);
  BOOST_TEST(response_status(bad_b64->body) == 1);
  // Still serving after all of that.
  BOOST_TEST(contains(f.ocsp_cli("leaf.pem"), "leaf.pem: good"));
}
