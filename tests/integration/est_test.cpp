// The EST server (RFC 7030) end to end, driven the way a device administrator would: curl and
// the openssl CLI against the built certctl-server (cacerts read by `openssl pkcs7`,
// simpleenroll with HTTP Basic, simplereenroll over mTLS with the issued certificate,
// csrattrs, serverkeygen decrypted with `openssl cms -decrypt`), channel binding with a TLS 1.3
// client, then the refusals (wrong password, untrusted or missing client certificate, CSR/claim
// mismatch, tampered CSR, oversized body, unknown profile, rate limit) and the admin routes.
#define BOOST_TEST_MODULE integration_est
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <regex>
#include <thread>

#include "tests/integration/api.hpp"
#include "tests/integration/est_client.hpp"

using namespace certctl::integration;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Makes a root CA with openssl (the server runs as its sub-CA mode on it, and the mTLS trust
/// bundle is that root) and a second, foreign root for refused client certificates.
void make_root(const std::string& dir, const std::string& name) {
  write_file(dir + "/" + name + ".cnf",
             "[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=" + name +
                 "\n[v3]\nbasicConstraints=critical,CA:TRUE\n"
                 "keyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n");
  auto r = run_command("cd " + dir + " && openssl req -x509 -newkey ec -pkeyopt " +
                       "ec_paramgen_curve:P-256 -nodes -keyout " + name + ".key -out " + name +
                       ".pem -days 30 -config " + name + ".cnf -extensions v3 2>&1");
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
}

server_options est_options(const std::string& dir) {
  server_options o;
  o.keygen_mode = "agent";
  auto& e = o.extra_env;
  e["CERTCTL_CA_CERT_PATH"] = dir + "/root.pem";
  e["CERTCTL_CA_KEY_PATH"] = dir + "/root.key";
  e["CERTCTL_EST_PROFILES"] = "corp,iot,plain,open";
  e["CERTCTL_EST_PROFILE_CORP_ISSUER_ID"] = "iss-local";
  e["CERTCTL_EST_PROFILE_CORP_PROFILE_ID"] = "prof-est";
  e["CERTCTL_EST_PROFILE_CORP_ENROLLMENT_PASSWORD"] = "corp-enroll-secret";
  e["CERTCTL_EST_PROFILE_CORP_MTLS_ENABLED"] = "true";
  e["CERTCTL_EST_PROFILE_CORP_MTLS_CLIENT_CA_TRUST_BUNDLE_PATH"] = dir + "/bundle.pem";
  e["CERTCTL_EST_PROFILE_CORP_SERVERKEYGEN_ENABLED"] = "true";
  e["CERTCTL_EST_PROFILE_IOT_ISSUER_ID"] = "iss-local";
  e["CERTCTL_EST_PROFILE_IOT_MTLS_ENABLED"] = "true";
  e["CERTCTL_EST_PROFILE_IOT_MTLS_TRUST_BUNDLE_PATH"] = dir + "/root.pem";
  e["CERTCTL_EST_PROFILE_IOT_CHANNEL_BINDING_REQUIRED"] = "true";
  e["CERTCTL_EST_PROFILE_IOT_ALLOWED_AUTH_MODES"] = "mtls";
  e["CERTCTL_EST_PROFILE_IOT_RATE_LIMIT_PER_PRINCIPAL_24H"] = "2";
  e["CERTCTL_EST_PROFILE_PLAIN_ISSUER_ID"] = "iss-local";
  e["CERTCTL_EST_PROFILE_OPEN_ISSUER_ID"] = "iss-local";
  e["CERTCTL_EST_PROFILE_OPEN_PROFILE_ID"] = "prof-est";
  e["CERTCTL_EST_PROFILE_OPEN_SERVERKEYGEN_ENABLED"] = "true";
  e["CERTCTL_EST_PROFILE_OPEN_SERVERKEYGEN_PKCS8_ALLOWED"] = "true";
  return o;
}

/// One server for the whole suite: the cases run in order and build on each other (the
/// re-enrollment renews what simpleenroll issued), as a device's life does.
struct est_env {
  temp_dir dir;
  std::unique_ptr<server_process> server;
  std::unique_ptr<api> client;

  est_env() {
    make_root(dir.path, "root");
    make_root(dir.path, "rogue");
    write_file(dir.path + "/bundle.pem", read_file(dir.path + "/root.pem"));
    server = std::make_unique<server_process>(dir.path + "/data", est_options(dir.path));
    client = std::make_unique<api>(*server);
    auto made = client->post("/api/v1/profiles",
                             R"({"id":"prof-est","name":"EST devices","allowed_key_algorithms":)"
                             R"([{"algorithm":"RSA","min_size":2048},)"
                             R"({"algorithm":"ECDSA","min_size":256}],)"
                             R"("allowed_ekus":["clientAuth","serverAuth"]})");
    BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  }

  std::string path(const std::string& name) const { return dir.path + "/" + name; }
  std::string url(const std::string& p) const {
    return "https://localhost:" + std::to_string(server->port()) + p;
  }

  /// Runs curl with `args` against `p`; the body goes to `out` (a file under the temp dir),
  /// headers to `out`.hdr; returns the HTTP status.
  int curl(const std::string& args, const std::string& p, const std::string& out) {
    auto r =
        run_command("curl -sS --cacert " + server->ca_bundle() + " -D " + path(out) + ".hdr -o " +
                    path(out) + " -w '%{http_code}' " + args + " " + shell_quote(url(p)) + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "curl " << args << " " << p << ": " << r.out);
    return std::stoi(r.out);
  }

  /// `openssl <args>` in the temp dir; its output.
  std::string openssl(const std::string& args, bool must_succeed = true) {
    auto r = run_command("cd " + dir.path + " && openssl " + args + " 2>&1");
    if (must_succeed) BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "openssl " << args << ": " << r.out);
    return r.out;
  }

  /// A key and a CSR for `cn` (and `san` when given) in `format` ("DER" or "PEM").
  void make_csr(const std::string& name, const std::string& cn, const std::string& key_spec,
                const std::string& san = "") {
    openssl("req -new -newkey " + key_spec + " -nodes -keyout " + name + ".key -subj '/CN=" + cn +
            "'" + (san.empty() ? "" : " -addext 'subjectAltName=" + san + "'") + " -out " + name +
            ".csr");
    openssl("req -in " + name + ".csr -outform DER -out " + name + ".csr.der");
    openssl("base64 -in " + name + ".csr.der -out " + name + ".csr.b64");
  }

  /// The certificate of a certs-only answer (base64 PKCS#7) as PEM, via `openssl pkcs7`.
  std::string certs_of(const std::string& b64_file) {
    openssl("base64 -d -in " + b64_file + " -out " + b64_file + ".der");
    return openssl("pkcs7 -inform DER -in " + b64_file + ".der -print_certs");
  }
};

est_env& env() {
  static est_env e;
  return e;
}

std::string header_of(const std::string& headers, const std::string& name) {
  std::smatch m;
  if (std::regex_search(headers, m,
                        std::regex("(?:^|\n)" + name + ": ([^\r\n]*)", std::regex::icase)))
    return m[1];
  return "";
}

/// Splits a multipart/mixed serverkeygen answer into part files (`prefix`0, 1, ...) with
/// Python's email parser (an independent MIME implementation); returns "type;type".
std::string split_multipart(est_env& e, const std::string& body_file, const std::string& prefix) {
  const std::string ct = header_of(read_file(e.path(body_file) + ".hdr"), "Content-Type");
  write_file(e.path("split.py"),
             "import email,sys\n"
             "raw=open(sys.argv[1],'rb').read()\n"
             "msg=email.message_from_bytes(b'Content-Type: '+sys.argv[2].encode()+b'\\r\\n\\r\\n'"
             "+raw)\n"
             "types=[]\n"
             "for p in [p for p in msg.walk() if not p.is_multipart()]:\n"
             "  open(sys.argv[3]+str(len(types)),'wb').write(p.get_payload(decode=True))\n"
             "  types.append(p.get_content_type()+'/'+(p.get_param('smime-type') or ''))\n"
             "print(';'.join(types))\n");
  auto r = run_command("python3 " + e.path("split.py") + " " + e.path(body_file) + " " +
                       shell_quote(ct) + " " + e.path(prefix));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out);
  return r.out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(est)

BOOST_AUTO_TEST_CASE(cacerts_is_a_certs_only_pkcs7_that_openssl_reads_on_both_routes) {
  auto& e = env();
  for (const std::string base : {"/.well-known/est/corp", "/.well-known/est-mtls/corp"}) {
    BOOST_TEST(e.curl("", base + "/cacerts", "cacerts.b64") == 200);
    const std::string hdr = read_file(e.path("cacerts.b64.hdr"));
    BOOST_TEST(contains(header_of(hdr, "Content-Type"), "application/pkcs7-mime"));
    BOOST_TEST(header_of(hdr, "Content-Transfer-Encoding") == "base64");
    BOOST_TEST(contains(e.certs_of("cacerts.b64"), "subject=CN = root"));
  }
}

BOOST_AUTO_TEST_CASE(csrattrs_advertise_the_profile_keys_and_the_channel_binding) {
  auto& e = env();
  BOOST_TEST(e.curl("", "/.well-known/est/corp/csrattrs", "attrs.b64") == 200);
  BOOST_TEST(header_of(read_file(e.path("attrs.b64.hdr")), "Content-Type") ==
             "application/csrattrs");
  e.openssl("base64 -d -in attrs.b64 -out attrs.der");
  const std::string corp = e.openssl("asn1parse -inform DER -in attrs.der");
  BOOST_TEST(contains(corp, "rsaEncryption"));
  BOOST_TEST(contains(corp, "INTEGER           :0800"));  // 2048 bits
  BOOST_TEST(contains(corp, "prime256v1"));
  BOOST_TEST(e.curl("", "/.well-known/est/iot/csrattrs", "attrs-iot.b64") == 200);
  e.openssl("base64 -d -in attrs-iot.b64 -out attrs-iot.der");
  BOOST_TEST(contains(e.openssl("asn1parse -inform DER -in attrs-iot.der"), "challengePassword"));
  // Nothing to ask for: no profile and no channel binding.
  BOOST_TEST(e.curl("", "/.well-known/est/plain/csrattrs", "attrs-plain") == 204);
}

BOOST_AUTO_TEST_CASE(simpleenroll_with_basic_issues_through_the_issuance_path_with_source_est) {
  auto& e = env();
  e.make_csr("dev1", "dev1.example.test", "rsa:2048", "DNS:dev1.example.test");
  BOOST_TEST(e.curl("-u device:corp-enroll-secret -H 'Content-Type: application/pkcs10' "
                    "--data-binary @" +
                        e.path("dev1.csr.b64"),
                    "/.well-known/est/corp/simpleenroll", "dev1.p7") == 200);
  BOOST_TEST(header_of(read_file(e.path("dev1.p7.hdr")), "Content-Type") ==
             "application/pkcs7-mime; smime-type=certs-only");
  write_file(e.path("dev1.pem"), e.certs_of("dev1.p7"));
  const std::string text = e.openssl("x509 -in dev1.pem -noout -subject -ext subjectAltName");
  BOOST_TEST(contains(text, "CN = dev1.example.test"));
  BOOST_TEST(contains(text, "DNS:dev1.example.test"));
  BOOST_TEST(contains(e.openssl("verify -CAfile root.pem dev1.pem"), "dev1.pem: OK"));

  // Inventory and audit show the enrollment like any other issuance.
  auto list = e.client->get("/api/v1/certificates?per_page=100");
  BOOST_REQUIRE_MESSAGE(list.status == 200, list.describe());
  BOOST_TEST(contains(list.body, "\"source\":\"EST\""));
  BOOST_TEST(contains(list.body, "\"certificate_profile_id\":\"prof-est\""));
  auto audit = e.client->get("/api/v1/audit?actor=est:corp:basic&action=certificate.issued");
  BOOST_REQUIRE_MESSAGE(audit.status == 200, audit.describe());
  BOOST_TEST(contains(audit.body, "\"resource_type\":\"certificate\""));
}

BOOST_AUTO_TEST_CASE(enrollment_bodies_in_pem_and_crlf_broken_base64_are_accepted) {
  auto& e = env();
  e.make_csr("dev2", "dev2.example.test", "ec -pkeyopt ec_paramgen_curve:P-256");
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("dev2.csr"),
                    "/.well-known/est/corp/simpleenroll", "dev2.p7") == 200);
  write_file(e.path("dev3.crlf"), [&] {
    e.make_csr("dev3", "dev3.example.test", "ec -pkeyopt ec_paramgen_curve:P-256");
    std::string b64 = read_file(e.path("dev3.csr.b64")), out;
    for (char c : b64) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  }());
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("dev3.crlf"),
                    "/.well-known/est/corp/simpleenroll", "dev3.p7") == 200);
  BOOST_TEST(contains(e.certs_of("dev3.p7"), "CN = dev3.example.test"));
}

BOOST_AUTO_TEST_CASE(simplereenroll_over_mtls_renews_the_same_certificate) {
  auto& e = env();
  e.openssl(
      "req -new -key dev1.key -subj '/CN=dev1.example.test' -addext "
      "'subjectAltName=DNS:dev1.example.test' -out dev1-re.csr");
  BOOST_TEST(e.curl("--cert " + e.path("dev1.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("dev1-re.csr"),
                    "/.well-known/est-mtls/corp/simplereenroll", "dev1-re.p7") == 200);
  write_file(e.path("dev1-new.pem"), e.certs_of("dev1-re.p7"));
  const std::string old_serial = e.openssl("x509 -in dev1.pem -noout -serial");
  const std::string new_serial = e.openssl("x509 -in dev1-new.pem -noout -serial");
  BOOST_TEST(old_serial != new_serial);
  // One certctl certificate with two versions, not a second inventory entry.
  auto list = e.client->get("/api/v1/certificates?per_page=100");
  BOOST_TEST(contains(list.body, "\"id\":\"mc-est-"));
  const std::string needle = "\"common_name\":\"dev1.example.test\"";
  int dev1_entries = 0;
  for (size_t at = list.body.find(needle); at != std::string::npos;
       at = list.body.find(needle, at + 1))
    ++dev1_entries;
  BOOST_TEST(dev1_entries == 1);
}

BOOST_AUTO_TEST_CASE(simplereenroll_refuses_a_csr_that_changes_the_names_or_a_missing_cert) {
  auto& e = env();
  e.openssl("req -new -key dev1.key -subj '/CN=someone-else.example.test' -out other.csr");
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("other.csr"),
                    "/.well-known/est-mtls/corp/simplereenroll", "other.out") == 400);
  BOOST_TEST(contains(read_file(e.path("other.out")), "must equal those of the certificate"));
  // The standard route with Basic but without a client certificate: nothing to renew.
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("dev1-re.csr"),
                    "/.well-known/est/corp/simplereenroll", "nocert.out") == 401);
}

BOOST_AUTO_TEST_CASE(serverkeygen_wraps_the_key_for_the_client_and_it_matches_the_certificate) {
  auto& e = env();
  // mTLS: the key is enveloped to the TLS client certificate.
  e.make_csr("kg1", "kg1.example.test", "rsa:2048");
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("kg1.csr.b64"),
                    "/.well-known/est-mtls/corp/serverkeygen", "kg1.out") == 200);
  BOOST_TEST(split_multipart(e, "kg1.out", "kg1.part") ==
             "application/pkcs7-mime/server-generated-key;application/pkcs7-mime/certs-only\n");
  e.openssl("cms -decrypt -inform DER -in kg1.part0 -inkey dev1.key -binary -out kg1.key.der");
  e.openssl("pkey -inform DER -in kg1.key.der -pubout -out kg1.pub");
  e.openssl("pkcs7 -inform DER -in kg1.part1 -print_certs -out kg1.pem");
  e.openssl("x509 -in kg1.pem -noout -pubkey -out kg1.cert.pub");
  BOOST_TEST(read_file(e.path("kg1.pub")) == read_file(e.path("kg1.cert.pub")));
  BOOST_TEST(contains(e.openssl("x509 -in kg1.pem -noout -subject"), "CN = kg1.example.test"));
  // Another key cannot open it.
  BOOST_TEST(!contains(e.openssl("cms -decrypt -inform DER -in kg1.part0 -inkey kg1.key -binary "
                                 "-out /dev/null; echo rc=$?",
                                 false),
                       "rc=0"));

  // Basic without a client certificate: enveloped to the CSR's key.
  e.make_csr("kg2", "kg2.example.test", "rsa:2048");
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("kg2.csr.b64"),
                    "/.well-known/est/corp/serverkeygen", "kg2.out") == 200);
  split_multipart(e, "kg2.out", "kg2.part");
  e.openssl("cms -decrypt -inform DER -in kg2.part0 -inkey kg2.key -binary -out kg2.key.der");
  e.openssl("pkey -inform DER -in kg2.key.der -pubout -out kg2.pub");
  e.openssl("pkcs7 -inform DER -in kg2.part1 -print_certs -out kg2.pem");
  e.openssl("x509 -in kg2.pem -noout -pubkey -out kg2.cert.pub");
  BOOST_TEST(read_file(e.path("kg2.pub")) == read_file(e.path("kg2.cert.pub")));
  // A profile that allows PKCS#8: without a client certificate the key comes back in clear
  // (inside TLS), RFC 7030 §4.4.2.
  BOOST_TEST(e.curl("--data-binary @" + e.path("kg2.csr.b64"), "/.well-known/est/open/serverkeygen",
                    "kg4.out") == 200);
  BOOST_TEST(split_multipart(e, "kg4.out", "kg4.part") ==
             "application/pkcs8/;application/pkcs7-mime/certs-only\n");
  e.openssl("pkey -inform DER -in kg4.part0 -pubout -out kg4.pub");
  e.openssl("pkcs7 -inform DER -in kg4.part1 -print_certs -out kg4.pem");
  e.openssl("x509 -in kg4.pem -noout -pubkey -out kg4.cert.pub");
  BOOST_TEST(read_file(e.path("kg4.pub")) == read_file(e.path("kg4.cert.pub")));
  // A profile without serverkeygen does not offer it.
  BOOST_TEST(e.curl("--data-binary @" + e.path("kg2.csr.b64"),
                    "/.well-known/est/plain/serverkeygen", "kg3.out") == 404);
}

BOOST_AUTO_TEST_CASE(refusals_carry_their_http_status) {
  auto& e = env();
  const std::string csr = "--data-binary @" + e.path("dev2.csr.b64");
  e.openssl("base64 -in dev2.csr.der -out dev2.csr.b64");
  BOOST_TEST(e.curl("-u x:wrong " + csr, "/.well-known/est/corp/simpleenroll", "r1") == 401);
  BOOST_TEST(contains(header_of(read_file(e.path("r1.hdr")), "WWW-Authenticate"), "Basic"));
  BOOST_TEST(e.curl(csr, "/.well-known/est/corp/simpleenroll", "r2") == 401);
  // A client certificate from a CA outside the profile's bundle.
  e.openssl(
      "req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout stranger.key "
      "-subj '/CN=stranger' -out stranger.pem -days 2");
  BOOST_TEST(
      e.curl("--cert " + e.path("stranger.pem") + " --key " + e.path("stranger.key") + " " + csr,
             "/.well-known/est-mtls/corp/simpleenroll", "r3") == 401);
  // The mTLS route without any certificate.
  BOOST_TEST(e.curl(csr, "/.well-known/est-mtls/corp/simpleenroll", "r4") == 401);
  // iot enrolls only over mTLS.
  BOOST_TEST(e.curl(csr, "/.well-known/est/iot/simpleenroll", "r5") == 401);
  // A CSR whose signature no longer verifies.
  auto der = read_file(e.path("dev2.csr.der"));
  der[der.size() - 4] = static_cast<char>(der[der.size() - 4] ^ 0x55);
  write_file(e.path("tampered.der"), der);
  e.openssl("base64 -in tampered.der -out tampered.b64");
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("tampered.b64"),
                    "/.well-known/est/corp/simpleenroll", "r6") == 400);
  BOOST_TEST(contains(read_file(e.path("r6")), "signature"));
  write_file(e.path("garbage"), "this is not a CSR");
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("garbage"),
                    "/.well-known/est/corp/simpleenroll", "r7") == 400);
  // Over the profile's 64 KiB cap.
  write_file(e.path("big"), std::string(70 * 1024, 'A'));
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("big"),
                    "/.well-known/est/corp/simpleenroll", "r8") == 413);
  // A key the profile does not allow (RSA below 2048 bits).
  e.make_csr("weak", "weak.example.test", "rsa:1024");
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("weak.csr.b64"),
                    "/.well-known/est/corp/simpleenroll", "r9") == 400);
  BOOST_TEST(contains(read_file(e.path("r9")), "below the profile's minimum"));
  BOOST_TEST(e.curl("", "/.well-known/est/nosuch/cacerts", "r10") == 404);
  BOOST_TEST(e.curl("-u x:corp-enroll-secret " + csr, "/.well-known/est/nosuch/simpleenroll",
                    "r11") == 404);
  // Failed authentications reach the audit trail.
  auto denied = e.client->get("/api/v1/audit?action=auth.denied");
  BOOST_TEST(contains(denied.body, "est:corp"));
}

BOOST_AUTO_TEST_CASE(channel_binding_needs_this_connections_tls_exporter_and_rate_limits_apply) {
  auto& e = env();
  auto csr_with = [&](const std::string& name, const std::string& password) {
    write_file(e.path(name + ".cnf"),
               "[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n"
               "[dn]\nCN=sensor-1\n[attrs]\nchallengePassword=" +
                   password + "\n");
    e.openssl("req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name +
              ".key -config " + name + ".cnf -out " + name + ".csr");
    return read_file(e.path(name + ".csr"));
  };
  const std::string path = "/.well-known/est-mtls/iot/simpleenroll";
  auto bound = [&](const std::string& name) {
    return post_channel_bound(
        e.server->port(), e.server->ca_bundle(), e.path("dev1-new.pem"), e.path("dev1.key"), path,
        [&](const std::string& exporter) { return csr_with(name, exporter); });
  };
  auto first = bound("s1");
  BOOST_TEST(first.status == 200, first.body);
  // A binding taken from another connection is refused (a replayed CSR).
  std::string stale;
  post_channel_bound(e.server->port(), e.server->ca_bundle(), e.path("dev1-new.pem"),
                     e.path("dev1.key"), "/.well-known/est-mtls/iot/cacerts-not-a-route",
                     [&](const std::string& exporter) {
                       stale = exporter;
                       return std::string("x");
                     });
  BOOST_REQUIRE(!stale.empty());
  auto replayed = post_channel_bound(
      e.server->port(), e.server->ca_bundle(), e.path("dev1-new.pem"), e.path("dev1.key"), path,
      [&](const std::string&) { return csr_with("s-stale", stale); });
  BOOST_TEST(replayed.status == 401, replayed.body);
  // No challengePassword at all: refused as well.
  e.make_csr("s-none", "sensor-1", "ec -pkeyopt ec_paramgen_curve:P-256");
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("s-none.csr"),
                    path, "s-none.out") == 401);
  // Two enrollments per (CN, source address) per 24 h on iot: the third is refused.
  auto second = bound("s2");
  BOOST_TEST(second.status == 200, second.body);
  auto third = bound("s3");
  BOOST_TEST(third.status == 429, third.body);
}

BOOST_AUTO_TEST_CASE(admin_routes_report_profiles_reload_trust_and_revoke_by_source) {
  auto& e = env();
  auto profiles = e.client->get("/api/v1/admin/est/profiles");
  BOOST_REQUIRE_MESSAGE(profiles.status == 200, profiles.describe());
  BOOST_TEST(contains(profiles.body, "\"profile_count\":4"));
  BOOST_TEST(contains(profiles.body, "\"success_simpleenroll\":"));
  BOOST_TEST(contains(profiles.body, "\"auth_failed_channel_binding\":"));
  BOOST_TEST(contains(profiles.body, "\"subjects\":[\"CN=root\"]"));
  api viewer(*e.server, viewer_key);
  BOOST_TEST(viewer.get("/api/v1/admin/est/profiles").status == 403);

  auto reloaded = e.client->post("/api/v1/admin/est/reload-trust", R"({"path_id":"corp"})");
  BOOST_TEST(reloaded.status == 200, reloaded.describe());
  BOOST_TEST(contains(reloaded.body, "\"reloaded\":true"));
  BOOST_TEST(e.client->post("/api/v1/admin/est/reload-trust", R"({"path_id":"nosuch"})").status ==
             404);
  BOOST_TEST(e.client->post("/api/v1/admin/est/reload-trust", R"({"path_id":"plain"})").status ==
             409);
  // A broken bundle: the reload fails and the old anchors keep admitting clients.
  write_file(e.path("bundle.pem"), "not a certificate\n");
  BOOST_TEST(e.client->post("/api/v1/admin/est/reload-trust", R"({"path_id":"corp"})").status ==
             500);
  BOOST_REQUIRE(e.server->pid() > 0);
  ::kill(e.server->pid(), SIGHUP);
  for (int i = 0; i < 100 && !contains(e.server->logs(), "SIGHUP: trust bundles reloaded"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST(contains(e.server->logs(), "SIGHUP: EST profile 'corp'"));
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("dev1-re.csr"),
                    "/.well-known/est-mtls/corp/simplereenroll", "after-bad-reload") == 200);
  // A new bundle without the root: SIGHUP swaps it in and the same client is refused.
  write_file(e.path("bundle.pem"), read_file(e.path("rogue.pem")));
  const auto lines_before = e.server->logs().size();
  ::kill(e.server->pid(), SIGHUP);
  for (int i = 0; i < 100 && e.server->logs().find("SIGHUP: trust bundles reloaded",
                                                   lines_before) == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("dev1-re.csr"),
                    "/.well-known/est-mtls/corp/simplereenroll", "after-swap") == 401);

  // Bulk revoke pinned to source EST: a REST certificate of the same profile is left alone.
  const std::string rest_id = "mc-rest-1";
  auto made =
      e.client->post("/api/v1/certificates",
                     R"({"id":"mc-rest-1","name":"rest","common_name":"rest.example.test",)"
                     R"("renewal_policy_id":"rp-default","issuer_id":"iss-local",)"
                     R"("owner_id":"o-1","team_id":"t-1","certificate_profile_id":"prof-est"})");
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.describe());
  BOOST_TEST(e.client->post("/api/v1/est/certificates/bulk-revoke", R"({"reason":"keyCompromise"})")
                 .status == 400);
  auto revoked = e.client->post("/api/v1/est/certificates/bulk-revoke",
                                R"({"reason":"keyCompromise","profile_id":"prof-est"})");
  BOOST_REQUIRE_MESSAGE(revoked.status == 200, revoked.describe());
  auto doc = revoked.json();
  BOOST_TEST(doc["total_revoked"].GetInt64() >= 4);  // dev1, dev2, dev3, kg1, kg2
  BOOST_TEST(doc["total_failed"].GetInt64() == 0);
  auto rest = e.client->get("/api/v1/certificates/" + rest_id);
  BOOST_TEST(!contains(rest.body, "\"status\":\"Revoked\""));
  // The same CSR cannot bring a revoked certificate's key back.
  BOOST_TEST(e.curl("-u x:corp-enroll-secret --data-binary @" + e.path("dev3.crlf"),
                    "/.well-known/est/corp/simpleenroll", "after-revoke-enroll") == 400);
  BOOST_TEST(contains(read_file(e.path("after-revoke-enroll")), "Revoked"));
  // The revoked device can no longer renew.
  write_file(e.path("bundle.pem"), read_file(e.path("root.pem")));
  BOOST_TEST(e.client->post("/api/v1/admin/est/reload-trust", R"({"path_id":"corp"})").status ==
             200);
  BOOST_TEST(e.curl("--cert " + e.path("dev1-new.pem") + " --key " + e.path("dev1.key") +
                        " --data-binary @" + e.path("dev1-re.csr"),
                    "/.well-known/est-mtls/corp/simplereenroll", "after-revoke") == 403);
}

BOOST_AUTO_TEST_CASE(the_legacy_root_profile_serves_est_at_the_well_known_root) {
  temp_dir dir;
  server_options o;
  o.keygen_mode = "agent";
  o.extra_env["CERTCTL_EST_ENABLED"] = "true";
  server_process legacy(dir.path + "/data", o);
  auto run = [&](const std::string& args) {
    return run_command("cd " + dir.path + " && curl -sS --cacert " + legacy.ca_bundle() + " " +
                       args + " 2>&1");
  };
  const std::string base = "https://localhost:" + std::to_string(legacy.port());
  auto ca = run("-o ca.b64 -w '%{http_code}' " + base + "/.well-known/est/cacerts");
  BOOST_TEST(ca.out == "200");
  auto certs = run_command("cd " + dir.path +
                           " && openssl base64 -d -in ca.b64 | openssl pkcs7 -inform DER "
                           "-print_certs 2>&1");
  BOOST_TEST(certs.exit_code == 0, certs.out);
  BOOST_TEST(contains(certs.out, "subject="));
  auto csr = run_command("cd " + dir.path +
                         " && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                         "-keyout d.key -subj /CN=legacy.example.test -out d.csr 2>&1");
  BOOST_REQUIRE(csr.exit_code == 0);
  auto enrolled = run("--data-binary @d.csr -o d.p7 -w '%{http_code}' " + base +
                      "/.well-known/est/simpleenroll");
  BOOST_TEST(enrolled.out == "200");  // anonymous: no password configured
  auto p7 = run_command("cd " + dir.path +
                        " && openssl base64 -d -in d.p7 | openssl pkcs7 -inform DER -print_certs");
  BOOST_TEST(contains(p7.out, "CN = legacy.example.test"));
  BOOST_TEST(run("-o /dev/null -w '%{http_code}' " + base + "/.well-known/est/corp/cacerts").out ==
             "404");
}

BOOST_AUTO_TEST_SUITE_END()
