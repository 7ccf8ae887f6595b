// The issuance service tells its observer about every attempt: issuer type, outcome, time.
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "actors/workflows/issuance_service.hpp"
#include "connectors/issuers/issuer.hpp"
#include "infra/crypto/aead.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

/// Signs nothing: answers with fixed data, or with an error when told to fail.
class fake_issuer final : public connectors::issuer {
 public:
  bool fail = false;
  std::string_view type() const override { return "FakeCA"; }
  const std::string& id() const override { return id_; }
  certctl::result<connectors::issued_certificate, connectors::issuer_error> issue(
      const connectors::issuance_request&) override {
    if (fail) return connectors::issuer_error{connectors::issuer_errc::unavailable, "CA is down"};
    connectors::issued_certificate c;
    c.cert_pem = "-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n";
    c.serial_hex = "01";
    c.not_before_us = 1790000000000000;
    c.not_after_us = 1790000000000000 + 86400000000LL * 90;
    c.fingerprint_sha256_hex = std::string(64, 'a');
    return c;
  }
  std::string ca_chain_pem() const override { return ""; }

 private:
  std::string id_ = "iss-fake";
};

struct observation {
  std::string issuer_type;
  bool success;
  double seconds;
};

/// A runtime over a memory store, a key store in a temp directory and the service under test.
struct fixture {
  fixture()
      : dir(std::filesystem::temp_directory_path() /
            ("certctl-metrics-test-" + std::to_string(::getpid()))),
        store(store::make_memory_store()),
        runtime(*store, clock),
        keys(crypto::key_store::open((dir / "keys").string(), crypto::generate_aead_key()).value()),
        service(runtime, issuer, keys, 1) {
    service.set_observer([this](const std::string& type, bool success, double seconds) {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back({type, success, seconds});
    });
  }
  ~fixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  domain::command cmd(const std::string& name, const std::string& id, events::json_object body) {
    domain::command c;
    c.name = name;
    c.entity_id = id;
    c.body = std::move(body);
    c.principal = "apikey:test";
    return c;
  }

  /// Creates certificate `cert_id` with an Issuance job `job_id`; returns the task to run.
  actors::issuance_task prepare(const std::string& cert_id, const std::string& job_id) {
    events::json_object cert;
    cert.set("name", cert_id)
        .set("common_name", cert_id + ".example.com")
        .set("renewal_policy_id", "rp-1")
        .set("issuer_id", "iss-fake")
        .set("owner_id", "o-1")
        .set("team_id", "t-1");
    auto created = runtime.execute("certificate", cmd("certificate.create", cert_id, cert));
    BOOST_REQUIRE(created.ok());
    events::json_object job;
    job.set("type", "Issuance").set("certificate_id", cert_id).set("awaiting_csr", false);
    BOOST_REQUIRE(runtime.execute("job", cmd("job.create", job_id, job)).ok());
    return {cert_id, job_id, created->view, "", "req-1", "apikey:test"};
  }

  std::vector<observation> observed() {
    std::lock_guard<std::mutex> lock(mu);
    return seen;
  }

  std::filesystem::path dir;
  infra::manual_clock clock{1790000000000000};
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  fake_issuer issuer;
  crypto::key_store keys;
  actors::issuance_service service;
  std::mutex mu;
  std::vector<observation> seen;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(issuance_observer)

BOOST_FIXTURE_TEST_CASE(a_successful_issuance_is_reported_as_success, fixture) {
  service.run(prepare("mc-1", "job-1"));
  auto obs = observed();
  BOOST_REQUIRE(obs.size() == 1u);
  BOOST_TEST(obs[0].issuer_type == "FakeCA");
  BOOST_TEST(obs[0].success);
  BOOST_TEST(obs[0].seconds >= 0.0);
  // The server-generated key is stored under the version the job recorded.
  auto job = runtime.read("job", "job-1");
  BOOST_REQUIRE(job.ok());
  BOOST_REQUIRE(!job->view.str("version_id").empty());
  BOOST_TEST(keys.contains(crypto::certificate_key_id("mc-1", job->view.str("version_id"))));
}

BOOST_FIXTURE_TEST_CASE(an_issuer_error_is_reported_as_failure, fixture) {
  issuer.fail = true;
  service.run(prepare("mc-1", "job-1"));
  auto obs = observed();
  BOOST_REQUIRE(obs.size() == 1u);
  BOOST_TEST(obs[0].issuer_type == "FakeCA");
  BOOST_TEST(!obs[0].success);
}

BOOST_FIXTURE_TEST_CASE(a_job_that_cannot_start_is_not_an_attempt, fixture) {
  auto task = prepare("mc-1", "job-1");
  service.run(task);
  service.run(task);  // the job is completed: job.start is refused, nothing is attempted
  BOOST_TEST(observed().size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(the_observer_feeds_the_issuance_series, fixture) {
  infra::metrics m(clock);
  service.set_observer([&m](const std::string& type, bool success, double seconds) {
    m.observe_issuance(type, success, seconds);
  });
  service.run(prepare("mc-1", "job-1"));
  issuer.fail = true;
  service.run(prepare("mc-2", "job-2"));
  service.run(prepare("mc-3", "job-3"));
  const std::string text = m.render_prometheus();
  BOOST_TEST(
      text.find("\ncertctl_issuance_total{issuer_type=\"FakeCA\",outcome=\"success\"} 1\n") !=
      std::string::npos);
  BOOST_TEST(
      text.find("\ncertctl_issuance_total{issuer_type=\"FakeCA\",outcome=\"failure\"} 2\n") !=
      std::string::npos);
  BOOST_TEST(text.find("\ncertctl_issuance_duration_seconds_count 3\n") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
