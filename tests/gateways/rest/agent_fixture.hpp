#pragma once
/// The REST fixture plus the routes of issue 12 (targets, deployments, agent work and job
/// status, discovery), with the fake connectors as the registered ones.

#include <boost/test/unit_test.hpp>

#include "connectors/config_service.hpp"
#include "connectors/fakes.hpp"
#include "gateways/rest/agent_job_routes.hpp"
#include "gateways/rest/discovery_routes.hpp"
#include "gateways/rest/target_routes.hpp"
#include "infra/crypto/aead.hpp"
#include "tests/gateways/rest/rest_fixture.hpp"

namespace certctl::test {

inline connectors::connector_registry fake_registry() {
  connectors::connector_registry r;
  BOOST_REQUIRE(
      connectors::fakes::register_fake_connectors(r, std::make_shared<connectors::fakes::journal>())
          .ok());
  return r;
}

/// The REST fixture with the routes of issue 12.
struct deployment_fixture : rest_fixture {
  deployment_fixture()
      : registry(fake_registry()),
        configs(registry, crypto::generate_aead_key()),
        deployments{runtime, *db, configs},
        discovery{runtime, *db} {
    writes.hooks["target"] = gateways::rest::target_config_hook(configs, runtime);
    gateways::rest::add_target_routes(*router, deployments);
    gateways::rest::add_agent_job_routes(*router, deployments);
    gateways::rest::add_discovery_routes(*router, discovery);
    BOOST_REQUIRE(!router->registration_error());
  }

  std::string agent(const std::string& id) {
    auto r = send("POST", "/api/v1/agents", R"({"id":")" + id + R"(","name":")" + id + R"("})");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    return id;
  }

  std::string target(const std::string& id, const std::string& agent_id) {
    auto r = send("POST", "/api/v1/targets",
                  R"({"id":")" + id + R"(","name":"web","type":"FakeTarget","agent_id":")" +
                      agent_id + R"(","config":{"path":"/srv/tls","password":"s3cret-pw"}})");
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    return id;
  }

  /// The whole event log as text.
  std::string log_text() {
    auto all = store->read_all(0, 100000);
    BOOST_REQUIRE(all.ok());
    std::string out;
    for (const auto& e : *all) out += e.type + " " + e.payload + "\n";
    return out;
  }

  events::json_object work_item(const std::string& agent_id, const std::string& job_id) {
    auto r = read("/api/v1/agents/" + agent_id + "/work");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    for (const auto& j : json(r).object_array("jobs"))
      if (j.str("id") == job_id) return j;
    BOOST_FAIL("job " << job_id << " not in the work of " << agent_id << ": " << r.body);
    return {};
  }

  gateways::http::response report(const std::string& agent_id, const std::string& job,
                                  const std::string& body) {
    return send("POST", "/api/v1/agents/" + agent_id + "/jobs/" + job + "/status", body);
  }

  connectors::connector_registry registry;
  connectors::config_service configs;
  gateways::rest::deployment_context deployments;
  gateways::rest::discovery_context discovery;
};

}  // namespace certctl::test
