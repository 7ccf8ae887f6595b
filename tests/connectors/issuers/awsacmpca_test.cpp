// The AWS ACM Private CA issuer against a local server written from the ACM PCA API reference
// (tests/support/mock_awsacmpca), which recomputes every SigV4 signature with the test secret:
// IssueCertificate + the GetCertificate waiter as an asynchronous order (followed after a
// "restart" by a fresh connector), revoke, the CA certificate, the documented errors
// (AccessDenied, UnrecognizedClient, InvalidSignature, Throttling with backoff,
// ResourceNotFound, RequestFailed), a timeout, the credential chain in the SDKs' order with
// IMDSv2 from a local metadata server, and the secret key sealed and redacted.
#define BOOST_TEST_MODULE connectors_awsacmpca
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>

#include "connectors/common/cloud_auth.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/awsacmpca/aws_acm_pca.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/net/outbound_http.hpp"
#include "tests/infra/crypto/test_support.hpp"
#include "tests/support/mock_awsacmpca.hpp"

using namespace certctl;
using certctl::test::temp_dir;

namespace certctl::connectors {
std::ostream& operator<<(std::ostream& o, issuer_errc c) {
  return o << to_string(c);
}
std::ostream& operator<<(std::ostream& o, order_state s) {
  return o << to_string(s);
}
namespace cloud_auth {
std::ostream& operator<<(std::ostream& o, auth_errc c) {
  return o << static_cast<int>(c);
}
}  // namespace cloud_auth
}  // namespace certctl::connectors
namespace t = certctl::testing;
namespace ca = certctl::connectors::cloud_auth;

namespace {

// This binary's loopback ports (41210-41219 are the ACM PCA tests').
constexpr int pca_port = 41210;
constexpr int imds_port = 41211;
constexpr int silent_port = 41212;

const std::string key_id = "AKIDCERTCTLTEST";
const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYtestSECRET";

connectors::builtin_context loopback_context() {
  connectors::builtin_context c;
  c.outbound_allow = {*net::parse_cidr("127.0.0.1/32")};
  return c;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

connectors::issuance_request request_for(const std::string& cn) {
  auto made = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, cn, {{cn}, {}, {}, {}});
  BOOST_REQUIRE(made.ok());
  connectors::issuance_request r;
  r.csr_pem = made->csr_pem;
  r.common_name = cn;
  r.sans.dns = {cn};
  r.ttl_us = 7LL * 86400 * 1000000;
  return r;
}

/// An environment for the credential chain: only what the test puts in it.
std::function<std::optional<std::string>(const std::string&)> env_of(
    std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct pca_fixture {
  pca_fixture() : mock_ca(t::make_mock_ca(tmp.path(), "pca")), server(mock_ca, pca_port) {
    server.state().keys[key_id] = {secret, ""};
  }

  events::json_object config() {
    events::json_object c;
    c.set("region", "us-east-1")
        .set("ca_arn", server.state().ca_arn)
        .set("access_key_id", key_id)
        .set("secret_access_key", secret)
        .set("endpoint_url", server.url())
        .set("ca_bundle_path", mock_ca.root_path)
        .set("use_instance_metadata", false)
        .set("timeout_seconds", 5);
    return c;
  }

  std::shared_ptr<connectors::issuer> make(const events::json_object& c,
                                           connectors::builtin_context ctx = loopback_context()) {
    auto i = connectors::awsacmpca::make_aws_acm_pca_issuer({"iss-pca", c}, ctx);
    BOOST_REQUIRE_MESSAGE(i.ok(), (i.ok() ? "" : i.error().message));
    return *i;
  }

  temp_dir tmp;
  t::mock_ca_material mock_ca;
  t::mock_awsacmpca server;
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(awsacmpca, pca_fixture)

BOOST_AUTO_TEST_CASE(issues_with_a_verified_signature_when_the_certificate_is_ready_at_once) {
  auto issuer = make(config());
  BOOST_TEST(issuer->capabilities().async_orders);
  auto req = request_for("app.example.test");
  auto cert = issuer->issue(req);
  BOOST_REQUIRE_MESSAGE(
      cert.ok(), (cert.ok() ? "" : cert.error().message + " / " + server.state().last_error));
  BOOST_TEST(!cert->cert_pem.empty());
  BOOST_TEST(contains(cert->order_id, server.state().ca_arn + "/certificate/"));
  auto info = crypto::parse_certificate(cert->cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->public_key_der == crypto::parse_csr(req.csr_pem)->public_key_der);
  const auto& issued = server.state().certificates.back();
  // The algorithm follows the CA's P-256 key; 7 days are whole days.
  BOOST_TEST(issued.signing_algorithm == "SHA256WITHECDSA");
  BOOST_TEST(contains(issued.validity_json, "\"DAYS\""));
  BOOST_TEST(contains(issued.validity_json, "7"));
  BOOST_TEST(server.state().access_keys_seen.size() >= 2);
  BOOST_TEST(server.state().last_error.empty());
}

BOOST_AUTO_TEST_CASE(a_pending_certificate_is_an_order_a_restarted_connector_can_finish) {
  server.state().pending_polls = 2;
  auto req = request_for("slow.example.test");
  std::string order;
  {
    auto issuer = make(config());
    auto pending = issuer->issue(req);
    BOOST_REQUIRE_MESSAGE(pending.ok(), (pending.ok() ? "" : pending.error().message));
    BOOST_TEST(pending->cert_pem.empty());
    order = pending->order_id;
    BOOST_REQUIRE(contains(order, "/certificate/"));
    auto still = issuer->get_order_status(order);
    BOOST_REQUIRE(still.ok());
    BOOST_TEST(still->state == connectors::order_state::pending);
  }
  // A new connector (the server restarted): the ARN is all it needs.
  auto restarted = make(config());
  auto done = restarted->get_order_status(order);
  BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  BOOST_TEST(done->state == connectors::order_state::valid);
  auto info = crypto::parse_certificate(done->certificate.cert_pem);
  BOOST_REQUIRE(info.ok());
  BOOST_TEST(info->public_key_der == crypto::parse_csr(req.csr_pem)->public_key_der);
  BOOST_TEST(done->certificate.serial_hex == info->serial_hex);
  BOOST_TEST(server.state().issue_calls == 1);  // no second order
  BOOST_TEST(server.state().get_calls == 3);

  auto foreign = restarted->get_order_status(
      "arn:aws:acm-pca:us-east-1:1:certificate-authority/"
      "other/certificate/x");
  BOOST_TEST(!foreign.ok());
}

BOOST_AUTO_TEST_CASE(a_failed_request_ends_the_order_as_invalid) {
  server.state().pending_polls = 1;
  auto issuer = make(config());
  auto pending = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(pending.ok());
  server.state().fail_requests = true;
  auto status = issuer->get_order_status(pending->order_id);
  BOOST_REQUIRE(status.ok());
  BOOST_TEST(status->state == connectors::order_state::invalid);
  BOOST_TEST(contains(status->message, "RequestFailedException"));
}

BOOST_AUTO_TEST_CASE(revokes_by_colon_serial_with_the_pca_reason) {
  auto issuer = make(config());
  auto cert = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE(cert.ok());
  auto r = issuer->revoke({cert->serial_hex, "superseded"});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(server.state().certificates.back().revocation_reason == "SUPERSEDED");
  BOOST_TEST(issuer->revoke({cert->serial_hex, "superseded"}).ok());  // already revoked
  auto hold = issuer->revoke({cert->serial_hex, "certificateHold"});
  BOOST_REQUIRE(!hold.ok());
  BOOST_TEST(hold.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(connectors::awsacmpca::colon_serial("0A1B2C") == "0a:1b:2c");
  BOOST_TEST(connectors::awsacmpca::colon_serial("A1B") == "0a:1b");
}

BOOST_AUTO_TEST_CASE(the_ca_chain_and_self_test_issue_nothing) {
  auto issuer = make(config());
  BOOST_TEST(contains(issuer->ca_chain_pem(), mock_ca.root_pem));
  auto report = issuer->self_test();
  BOOST_REQUIRE_MESSAGE(report.ok(), (report.ok() ? "" : report.error().message));
  BOOST_TEST(contains(report->message, "credentials from config"));
  BOOST_TEST(server.state().issue_calls == 0);
}

BOOST_AUTO_TEST_CASE(the_documented_errors_map_to_what_the_caller_can_do) {
  server.state().deny_access = true;
  auto denied = make(config())->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST(denied.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(denied.error().message, "AccessDeniedException"));
  server.state().deny_access = false;

  auto wrong_secret = config();
  wrong_secret.set("secret_access_key", "not-the-secret");
  auto bad_sig = make(wrong_secret)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!bad_sig.ok());
  BOOST_TEST(bad_sig.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(bad_sig.error().message, "InvalidSignatureException"));
  BOOST_TEST(!contains(bad_sig.error().message, "not-the-secret"));

  auto unknown_key = config();
  unknown_key.set("access_key_id", "AKIDNOBODY");
  auto unrecognised = make(unknown_key)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!unrecognised.ok());
  BOOST_TEST(contains(unrecognised.error().message, "UnrecognizedClientException"));

  auto other_ca = config();
  other_ca.set("ca_arn", "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/gone");
  auto missing = make(other_ca)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == connectors::issuer_errc::invalid_request);
  BOOST_TEST(contains(missing.error().message, "ResourceNotFoundException"));

  server.state().malformed_csr = true;
  auto malformed = make(config())->issue(request_for("a.example.test"));
  server.state().malformed_csr = false;
  BOOST_REQUIRE(!malformed.ok());
  BOOST_TEST(malformed.error().code == connectors::issuer_errc::bad_csr);
  BOOST_TEST(contains(malformed.error().message, "MalformedCSRException"));

  auto rsa = config();
  rsa.set("signing_algorithm", "SHA256WITHRSA");
  auto mismatch = make(rsa)->issue(request_for("a.example.test"));
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST(mismatch.error().code == connectors::issuer_errc::policy_violation);
  BOOST_TEST(server.state().certificates.empty());
}

BOOST_AUTO_TEST_CASE(throttling_is_retried_with_backoff_then_reported) {
  auto issuer = make(config());
  server.state().throttle_next = 2;
  auto after = issuer->issue(request_for("a.example.test"));
  BOOST_REQUIRE_MESSAGE(after.ok(), (after.ok() ? "" : after.error().message));
  BOOST_TEST(server.state().throttled == 2);
  server.state().throttle_next = 10;
  auto gave_up = issuer->issue(request_for("b.example.test"));
  BOOST_REQUIRE(!gave_up.ok());
  BOOST_TEST(gave_up.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(gave_up.error().message, "ThrottlingException"));
  BOOST_TEST(server.state().throttled == 6);  // 2 + the first try and 3 retries
}

BOOST_AUTO_TEST_CASE(a_peer_that_never_answers_times_out) {
  // Accepts connections (the kernel's backlog) and never speaks TLS.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(silent_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  BOOST_REQUIRE(::listen(fd, 8) == 0);
  auto c = config();
  c.set("endpoint_url", "https://127.0.0.1:" + std::to_string(silent_port))
      .set("timeout_seconds", 1);
  auto r = make(c)->issue(request_for("a.example.test"));
  ::close(fd);
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == connectors::issuer_errc::unavailable);
  BOOST_TEST(contains(r.error().message, "timed out"));
}

BOOST_AUTO_TEST_CASE(bad_configurations_are_refused_at_creation) {
  auto make_with = [&](const char* key, const std::string& value) {
    auto c = config();
    c.set(key, value);
    return connectors::awsacmpca::make_aws_acm_pca_issuer({"x", c}, loopback_context()).ok();
  };
  BOOST_TEST(!make_with("region", "us east"));
  BOOST_TEST(!make_with("ca_arn", "not-an-arn"));
  BOOST_TEST(!make_with("signing_algorithm", "MD5WITHRSA"));
  BOOST_TEST(!make_with("endpoint_url", "http://127.0.0.1:1"));
  auto half = config();
  half.remove("secret_access_key");
  BOOST_TEST(!connectors::awsacmpca::make_aws_acm_pca_issuer({"x", half}, loopback_context()).ok());
}

BOOST_AUTO_TEST_CASE(the_secret_key_and_session_token_are_sealed_and_redacted) {
  connectors::connector_registry only;
  BOOST_REQUIRE(connectors::register_aws_acm_pca_connector(only, loopback_context()).ok());
  auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
  BOOST_REQUIRE(master.ok());
  connectors::config_service configs(only, *master);
  auto c = config();
  c.set("session_token", "FwoGZXIvYXdzEXAMPLEsessionTOKEN");
  auto stored =
      configs.prepare(connectors::connector_kind::issuer, "AWSACMPCA", "iss-pca", c, nullptr);
  BOOST_REQUIRE_MESSAGE(stored.ok(), (stored.ok() ? "" : stored.error().message));
  const std::string shown =
      configs.redact(connectors::connector_kind::issuer, "AWSACMPCA", *stored).dump();
  for (const std::string& s : {secret, std::string("FwoGZXIvYXdzEXAMPLEsessionTOKEN")}) {
    BOOST_TEST(!contains(stored->dump(), s));
    BOOST_TEST(!contains(shown, s));
  }
  BOOST_TEST(contains(shown, key_id));  // the key id is not a secret
  BOOST_TEST(contains(shown, "********"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(credential_chain)

BOOST_AUTO_TEST_CASE(configured_keys_come_before_the_environment_and_the_environment_first_after) {
  ca::aws_chain_options o;
  o.getenv = env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                     {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                     {"AWS_SESSION_TOKEN", "env-session"},
                     {"HOME", "/nonexistent"}});
  o.use_instance_metadata = false;
  o.configured.access_key_id = "AKIDCONF";
  o.configured.secret_access_key = "conf-secret";
  auto configured = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(configured.ok());
  BOOST_TEST(configured->access_key_id == "AKIDCONF");
  BOOST_TEST(configured->source == "config");
  o.configured = {};
  auto from_env = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(from_env.ok());
  BOOST_TEST(from_env->access_key_id == "AKIDENV");
  BOOST_TEST(from_env->session_token == "env-session");
  BOOST_TEST(from_env->source == "environment");
}

BOOST_AUTO_TEST_CASE(the_shared_files_follow_the_environment_with_their_profile) {
  temp_dir tmp;
  std::ofstream(tmp.file("credentials")) << "# comment\n[default]\naws_access_key_id = AKIDFILE\n"
                                            "aws_secret_access_key = file-secret\n";
  std::ofstream(tmp.file("config"))
      << "[default]\nregion = us-east-1\n[profile ops]\n"
         "aws_access_key_id=AKIDOPS\naws_secret_access_key=ops-secret\n"
         "aws_session_token=ops-session\n";
  ca::aws_chain_options o;
  o.use_instance_metadata = false;
  o.getenv = env_of({{"AWS_SHARED_CREDENTIALS_FILE", tmp.file("credentials")},
                     {"AWS_CONFIG_FILE", tmp.file("config")}});
  auto def = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE_MESSAGE(def.ok(), (def.ok() ? "" : def.error().message));
  BOOST_TEST(def->access_key_id == "AKIDFILE");
  BOOST_TEST(def->source == "profile default");
  o.getenv = env_of({{"AWS_SHARED_CREDENTIALS_FILE", tmp.file("credentials")},
                     {"AWS_CONFIG_FILE", tmp.file("config")},
                     {"AWS_PROFILE", "ops"}});
  auto ops = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(ops.ok());
  BOOST_TEST(ops->access_key_id == "AKIDOPS");
  BOOST_TEST(ops->session_token == "ops-session");
  // The environment's keys still come first.
  o.getenv = env_of({{"AWS_SHARED_CREDENTIALS_FILE", tmp.file("credentials")},
                     {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                     {"AWS_SECRET_ACCESS_KEY", "env-secret"}});
  BOOST_TEST(ca::aws_credential_chain(o).credentials()->access_key_id == "AKIDENV");
  // A profile named in the configuration that exists nowhere is an error, not a fallback.
  o.getenv = env_of({{"AWS_SHARED_CREDENTIALS_FILE", tmp.file("credentials")}});
  o.profile = "missing";
  auto none = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(!none.ok());
  BOOST_TEST(none.error().code == ca::auth_errc::invalid_config);
}

BOOST_AUTO_TEST_CASE(instance_metadata_comes_last_through_imdsv2_and_is_cached_until_expiry) {
  t::mock_imds imds(imds_port);
  ca::aws_chain_options o;
  o.getenv = env_of({{"HOME", "/nonexistent"}});
  o.instance_metadata_url = imds.url();
  o.transport.allow = loopback_context().outbound_allow;
  ca::aws_credential_chain chain(o);
  auto c = chain.credentials();
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
  BOOST_TEST(c->access_key_id == "ASIAIMDSEXAMPLE");
  BOOST_TEST(c->session_token == "imds-session");
  BOOST_TEST(c->source == "instance metadata");
  BOOST_TEST(c->expires_at > ca::system_seconds());
  BOOST_REQUIRE(chain.credentials().ok());
  BOOST_TEST(chain.resolutions() == 1);  // cached: an hour left
  BOOST_TEST(imds.state().token_puts == 1);
  BOOST_TEST(imds.state().refused == 0);

  // Credentials that expire inside the refresh margin are fetched again on every use.
  imds.state().expires_in = 200;
  ca::aws_credential_chain short_lived(o);
  BOOST_REQUIRE(short_lived.credentials().ok());
  BOOST_REQUIRE(short_lived.credentials().ok());
  BOOST_TEST(short_lived.resolutions() == 2);

  // IMDSv1 (a GET without the session token) is refused by the metadata server.
  net::outbound_guard guard(loopback_context().outbound_allow);
  net::http_get_request get;
  get.host = "127.0.0.1";
  get.port = imds_port;
  get.path = "/latest/meta-data/iam/security-credentials/";
  auto v1 = net::http_get(guard, get, net::outbound_limits{});
  BOOST_REQUIRE(v1.ok());
  BOOST_TEST(v1->status == 401);
}

BOOST_AUTO_TEST_CASE(the_metadata_address_goes_through_the_outbound_guard) {
  ca::aws_chain_options o;
  o.getenv = env_of({{"HOME", "/nonexistent"}});
  o.transport.allow = loopback_context().outbound_allow;  // 169.254.169.254 not allowed
  auto refused = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(contains(refused.error().message, "CERTCTL_OUTBOUND_ALLOW_CIDRS"));
  o.getenv = env_of({{"AWS_EC2_METADATA_DISABLED", "true"}});
  auto disabled = ca::aws_credential_chain(o).credentials();
  BOOST_REQUIRE(!disabled.ok());
  BOOST_TEST(disabled.error().code == ca::auth_errc::invalid_config);
}

BOOST_AUTO_TEST_CASE(an_issuer_signs_with_instance_role_credentials_and_their_session_token) {
  temp_dir tmp;
  auto material = t::make_mock_ca(tmp.path(), "pca");
  t::mock_awsacmpca server(material, pca_port);
  t::mock_imds imds(imds_port);
  server.state().keys["ASIAIMDSEXAMPLE"] = {"imds-secret", "imds-session"};
  events::json_object c;
  c.set("region", "us-east-1")
      .set("ca_arn", server.state().ca_arn)
      .set("endpoint_url", server.url())
      .set("ca_bundle_path", material.root_path)
      .set("instance_metadata_url", imds.url())
      .set("profile", "")
      .set("timeout_seconds", 5);
  // Only when the process environment holds no AWS keys does the chain reach the metadata
  // server; CI machines have none.
  BOOST_REQUIRE(std::getenv("AWS_ACCESS_KEY_ID") == nullptr);
  auto issuer = connectors::awsacmpca::make_aws_acm_pca_issuer({"iss-pca", c}, loopback_context());
  BOOST_REQUIRE(issuer.ok());
  auto cert = (*issuer)->issue(request_for("role.example.test"));
  BOOST_REQUIRE_MESSAGE(
      cert.ok(), (cert.ok() ? "" : cert.error().message + " / " + server.state().last_error));
  BOOST_TEST(server.state().access_keys_seen.back() == "ASIAIMDSEXAMPLE");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rotation)

BOOST_AUTO_TEST_CASE(
    rotated_instance_role_keys_are_fetched_again_when_aws_refuses_the_cached_ones) {
  temp_dir tmp;
  auto material = t::make_mock_ca(tmp.path(), "pca");
  t::mock_awsacmpca server(material, pca_port);
  t::mock_imds imds(imds_port);
  server.state().keys["ASIAIMDSEXAMPLE"] = {"imds-secret", "imds-session"};
  events::json_object c;
  c.set("region", "us-east-1")
      .set("ca_arn", server.state().ca_arn)
      .set("endpoint_url", server.url())
      .set("ca_bundle_path", material.root_path)
      .set("instance_metadata_url", imds.url())
      .set("timeout_seconds", 5);
  BOOST_REQUIRE(std::getenv("AWS_ACCESS_KEY_ID") == nullptr);
  auto issuer = connectors::awsacmpca::make_aws_acm_pca_issuer({"iss-pca", c}, loopback_context());
  BOOST_REQUIRE(issuer.ok());
  BOOST_REQUIRE((*issuer)->issue(request_for("one.example.test")).ok());
  BOOST_TEST(imds.state().credential_gets == 1);
  // The role's keys rotate: AWS no longer knows the cached ones, the metadata server has new.
  {
    std::lock_guard<std::mutex> lock(server.state().mutex);
    server.state().keys.clear();
    server.state().keys["ASIAROTATED"] = {"rotated-secret", "rotated-session"};
  }
  {
    std::lock_guard<std::mutex> lock(imds.state().mutex);
    imds.state().access_key_id = "ASIAROTATED";
    imds.state().secret = "rotated-secret";
    imds.state().token = "rotated-session";
  }
  auto again = (*issuer)->issue(request_for("two.example.test"));
  BOOST_REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(imds.state().credential_gets == 2);
  BOOST_TEST(server.state().access_keys_seen.back() == "ASIAROTATED");
}

BOOST_AUTO_TEST_SUITE_END()
