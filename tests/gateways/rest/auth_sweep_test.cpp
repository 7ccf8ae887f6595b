// The auth sweep (issue 11, item 5): the router built with every route group certctl-server
// registers, each registered route read back from the router, and for every route that is not
// public: no key -> 401, a wrong key -> 401, every role the route does not admit -> 403. A new
// route that is public without being listed here, a new route group in tools/server/main.cpp
// that this sweep does not register, or an agent or viewer key admitted where it must not be,
// fails the test.

#define BOOST_TEST_MODULE gateways_auth_sweep
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/network_scan.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "actors/workflows/issuer_resolver.hpp"
#include "actors/workflows/revocation_cache.hpp"
#include "connectors/builtin.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "gateways/acme/acme_routes.hpp"
#include "gateways/est/est_routes.hpp"
#include "gateways/http/health_routes.hpp"
#include "gateways/http/router.hpp"
#include "gateways/pki/pki_routes.hpp"
#include "gateways/rest/agent_job_routes.hpp"
#include "gateways/rest/api_key_routes.hpp"
#include "gateways/rest/approval_routes.hpp"
#include "gateways/rest/auth_routes.hpp"
#include "gateways/rest/bulk_routes.hpp"
#include "gateways/rest/cluster_routes.hpp"
#include "gateways/rest/connector_routes.hpp"
#include "gateways/rest/discovery_routes.hpp"
#include "gateways/rest/governance_routes.hpp"
#include "gateways/rest/health_check_routes.hpp"
#include "gateways/rest/intermediate_routes.hpp"
#include "gateways/rest/inventory_routes.hpp"
#include "gateways/rest/key_export_routes.hpp"
#include "gateways/rest/metrics_routes.hpp"
#include "gateways/rest/network_scan_routes.hpp"
#include "gateways/rest/notification_routes.hpp"
#include "gateways/rest/read_routes.hpp"
#include "gateways/rest/stats_routes.hpp"
#include "gateways/rest/target_routes.hpp"
#include "gateways/rest/verification_routes.hpp"
#include "gateways/rest/write_routes.hpp"
#include "gateways/scep/scep_routes.hpp"
#include "gateways/stream/event_routes.hpp"
#include "infra/config.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/secure_file.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/memory_store.hpp"
#include "projections/projector.hpp"

using namespace certctl;
namespace http = gateways::http;
namespace rest = gateways::rest;
using http::role;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;

/// The revocation cache needs a reader to be built; it is never started here and no request
/// of the sweep reaches it (every one is refused before its handler).
class no_revocations final : public actors::revocation_reader {
 public:
  actors::revocation_read<std::vector<actors::revocation_entry>> changed_after(std::int64_t,
                                                                               size_t) override {
    return std::vector<actors::revocation_entry>{};
  }
  actors::revocation_read<std::vector<actors::revocation_entry>> entries_of(const std::string&,
                                                                            std::int64_t,
                                                                            size_t) override {
    return std::vector<actors::revocation_entry>{};
  }
  actors::revocation_read<std::int64_t> last_crl_number(const std::string&) override {
    return std::int64_t{0};
  }
  std::int64_t projected_position() override { return 0; }
};

std::filesystem::path fresh_dir() {
  static std::atomic<int> n{0};
  auto d = std::filesystem::temp_directory_path() /
           ("certctl-auth-sweep-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
  std::filesystem::create_directories(d);
  return d;
}

infra::server_config acme_enabled_config() {
  const std::map<std::string, std::string> env = {{"CERTCTL_ACME_SERVER_ENABLED", "true"},
                                                  {"CERTCTL_EST_ENABLED", "true"}};
  auto cfg = infra::load_config([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
  BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
  return *cfg;
}

constexpr const char* keys_spec =
    "v:key-viewer-1:viewer, o:key-operator-1:operator, a:key-admin-1:admin, g:key-agent-1:agent, "
    "u:key-auditor-1:auditor";
const std::pair<role, const char*> keys_by_role[] = {{role::viewer, "key-viewer-1"},
                                                     {role::operator_, "key-operator-1"},
                                                     {role::admin, "key-admin-1"},
                                                     {role::agent, "key-agent-1"},
                                                     {role::auditor, "key-auditor-1"}};

/// Everything certctl-server's main() builds before it registers routes, over a memory store,
/// and a router with real API keys holding every route group main() registers.
struct full_server {
  full_server()
      : dir(fresh_dir()),
        clock(t0),
        store(store::make_memory_store()),
        runtime(*store, clock),
        db(sql::database::open("memory:").value()),
        projector(*store, db),
        master(crypto::load_or_create_master_key((dir / "master.key").string()).value()),
        keys(crypto::key_store::open((dir / "keys").string(), master).value()),
        config(acme_enabled_config()),
        metrics(clock, "test"),
        revocation(std::make_shared<no_revocations>(), clock) {
    connectors::local_ca_config ca_cfg;
    ca_cfg.data_dir = (dir / "ca").string();
    ca_cfg.pki_base_url = "http://127.0.0.1:1";
    ca_cfg.clock = &clock;
    auto opened = connectors::open_local_ca(ca_cfg);
    BOOST_REQUIRE_MESSAGE(opened.ok(), (opened.ok() ? "" : opened.error().message));
    ca = std::move(opened).value();
    auto tree = actors::open_hierarchy(ca_cfg, runtime, keys);
    BOOST_REQUIRE_MESSAGE(tree.ok(), (tree.ok() ? "" : tree.error()));
    hierarchy = std::move(tree).value();
    BOOST_REQUIRE(
        connectors::register_builtin_connectors(registry, {ca.get(), hierarchy.get()}).ok());
    configs = std::make_unique<connectors::config_service>(registry, master);
    issuance = std::make_unique<actors::issuance_service>(runtime, *ca, keys, 1);

    auto parsed = http::parse_named_keys(keys_spec);
    BOOST_REQUIRE(parsed.ok());
    http::router_options ropts;
    ropts.on_auth_failure = [this](const http::auth_event&) { ++auth_failures; };
    router = std::make_unique<http::router>(http::key_store::from_named_keys(*parsed), ropts);
    register_every_group();
    BOOST_REQUIRE_MESSAGE(!router->registration_error(), *router->registration_error());
  }

  ~full_server() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  /// Mirrors the add_*_routes calls of tools/server/main.cpp; `groups` names each one, so the
  /// test can check that main() registers nothing this sweep leaves out.
  void register_every_group() {
    http::add_health_routes(*router, {});
    groups.insert("health");
    writes = std::make_unique<rest::write_context>(rest::write_context{runtime, *issuance, {}});
    rest::add_write_routes(*router, *writes);
    groups.insert("write");
    reads = std::make_unique<rest::read_context>(rest::read_context{*db, projector, clock});
    rest::add_read_routes(*router, *reads);
    groups.insert("read");
    governance = std::make_unique<rest::governance_context>(rest::governance_context{*db});
    rest::add_governance_routes(*router, *governance);
    groups.insert("governance");
    approvals = std::make_unique<rest::approval_context>(rest::approval_context{runtime, *db, {}});
    rest::add_approval_routes(*router, *approvals);
    groups.insert("approval");
    verifications =
        std::make_unique<rest::verification_context>(rest::verification_context{runtime});
    rest::add_verification_routes(*router, *verifications);
    groups.insert("verification");
    managed_keys =
        std::make_unique<rest::managed_key_directory>(*db, clock, std::set<std::string>{});
    api_key_ctx = std::make_unique<rest::api_key_context>(
        rest::api_key_context{runtime, *db, projector, *managed_keys});
    rest::add_api_key_routes(*router, *api_key_ctx);
    groups.insert("api_key");
    health_checks =
        std::make_unique<rest::health_check_context>(rest::health_check_context{runtime, *db, 30});
    rest::add_health_check_routes(*router, *health_checks);
    groups.insert("health_check");
    scanner = std::make_unique<schedulers::network_scanner>(
        runtime, scan_guard, clock, schedulers::tls_scan_prober(scan_guard));
    network_scans.reset(new rest::network_scan_context{*scanner});
    rest::add_network_scan_routes(*router, *network_scans);
    groups.insert("network_scan");
    key_exports =
        std::make_unique<rest::key_export_context>(rest::key_export_context{*db, keys, runtime});
    rest::add_key_export_routes(*router, *key_exports);
    groups.insert("key_export");
    rest::add_auth_routes(*router, {"api-key"});
    groups.insert("auth");
    bulk = std::make_unique<rest::bulk_context>(rest::bulk_context{*writes, *db, projector});
    rest::add_bulk_routes(*router, *bulk);
    groups.insert("bulk");
    intermediates = std::make_unique<rest::intermediate_context>(
        rest::intermediate_context{runtime, *db, *hierarchy});
    rest::add_intermediate_routes(*router, *intermediates);
    groups.insert("intermediate");
    connector_ctx =
        std::make_unique<rest::connector_context>(rest::connector_context{runtime, *db, *configs});
    rest::add_connector_routes(*router, *connector_ctx);
    groups.insert("connector");
    deployments = std::make_unique<rest::deployment_context>(
        rest::deployment_context{runtime, *db, *configs});
    rest::add_target_routes(*router, *deployments);
    groups.insert("target");
    rest::add_agent_job_routes(*router, *deployments);
    groups.insert("agent_job");
    discovery = std::make_unique<rest::discovery_context>(rest::discovery_context{runtime, *db});
    rest::add_discovery_routes(*router, *discovery);
    groups.insert("discovery");
    stats = std::make_unique<rest::stats_context>(rest::stats_context{*db, clock});
    rest::add_stats_routes(*router, *stats);
    groups.insert("stats");
    metrics_ctx = std::make_unique<rest::metrics_context>(
        rest::metrics_context{metrics, *db, projector, clock, nullptr});
    rest::add_metrics_routes(*router, *metrics_ctx);
    groups.insert("metrics");
    events_ctx.reset(new gateways::stream::event_context{*store, {}});
    gateways::stream::add_event_routes(*router, *events_ctx);
    groups.insert("event");
    inventory_ctx.reset(new rest::inventory_context{*store});
    rest::add_inventory_routes(*router, *inventory_ctx);
    groups.insert("inventory");
    notifications_ctx = std::make_unique<rest::notification_context>(
        rest::notification_context{runtime, *db, clock, nullptr});
    rest::add_notification_routes(*router, *notifications_ctx);
    groups.insert("notification");
    cluster_ctx = std::make_unique<rest::cluster_context>(rest::cluster_context{nullptr, clock});
    rest::add_cluster_routes(*router, *cluster_ctx);
    groups.insert("cluster");
    pki_admin = std::make_unique<gateways::pki::pki_admin_context>(
        gateways::pki::pki_admin_context{revocation, *db, clock});
    gateways::pki::add_pki_admin_routes(*router, *pki_admin);
    groups.insert("pki_admin");
    acme = gateways::acme::add_acme_routes(
        *router, {*store, *db, runtime, *issuance, config, keys, "https://127.0.0.1:1"});
    BOOST_REQUIRE_MESSAGE(acme != nullptr, "the ACME routes were not registered");
    groups.insert("acme");
    auto est_made = gateways::est::add_est_routes(
        *router, {*store, *db, runtime, *issuance, config, *ca, *configs, {}, {}});
    BOOST_REQUIRE_MESSAGE(est_made.ok() && *est_made != nullptr,
                          "the EST routes were not registered");
    est = std::move(est_made).value();
    groups.insert("est");
    infra::scep_profile_config scep_profile;
    scep_profile.path_id = "corp";
    scep_profile.env_prefix = "CERTCTL_SCEP_PROFILE_CORP_";
    scep_profile.issuer_id = "iss-local";
    scep_profile.challenge_password = "sweep";
    auto scep_gw = gateways::scep::add_scep_routes(
        *router,
        {*store,
         *db,
         runtime,
         *issuance,
         keys,
         config,
         {scep_profile},
         [this](const std::string&, std::string&) -> connectors::issuer* { return ca.get(); },
         dir.string(),
         [](const std::string&) {}});
    BOOST_REQUIRE_MESSAGE(scep_gw.ok(), (scep_gw.ok() ? "" : scep_gw.error()));
    scep = std::move(*scep_gw);
    groups.insert("scep");
  }

  http::response send(const std::string& method, const std::string& path,
                      const std::optional<std::string>& authorization) {
    http::raw_request r;
    r.method = method;
    r.path = path;
    r.remote_addr = "127.0.0.1";
    if (authorization) r.headers.emplace("Authorization", *authorization);
    if (method != "GET" && method != "DELETE") {
      r.headers.emplace("Content-Type", "application/json");
      r.body = "{}";
    }
    return router->handle(r);
  }

  std::filesystem::path dir;
  infra::manual_clock clock;
  std::unique_ptr<store::event_store> store;
  actors::entity_runtime runtime;
  std::shared_ptr<sql::database> db;
  projections::projector projector;
  crypto::aead_key master;
  crypto::key_store keys;
  infra::server_config config;
  infra::metrics metrics;
  actors::revocation_cache revocation;
  std::unique_ptr<connectors::local_ca> ca;
  std::unique_ptr<connectors::ca_hierarchy> hierarchy;
  connectors::connector_registry registry;
  std::unique_ptr<connectors::config_service> configs;
  std::unique_ptr<actors::issuance_service> issuance;
  std::unique_ptr<rest::write_context> writes;
  std::unique_ptr<rest::read_context> reads;
  std::unique_ptr<rest::key_export_context> key_exports;
  std::unique_ptr<rest::bulk_context> bulk;
  std::unique_ptr<rest::intermediate_context> intermediates;
  std::unique_ptr<rest::connector_context> connector_ctx;
  std::unique_ptr<rest::deployment_context> deployments;
  std::unique_ptr<rest::discovery_context> discovery;
  std::unique_ptr<rest::stats_context> stats;
  std::unique_ptr<rest::governance_context> governance;
  std::unique_ptr<rest::approval_context> approvals;
  std::unique_ptr<rest::verification_context> verifications;
  std::unique_ptr<rest::managed_key_directory> managed_keys;
  std::unique_ptr<rest::api_key_context> api_key_ctx;
  std::unique_ptr<rest::health_check_context> health_checks;
  net::outbound_guard scan_guard;
  std::unique_ptr<schedulers::network_scanner> scanner;
  std::unique_ptr<rest::network_scan_context> network_scans;
  std::unique_ptr<rest::metrics_context> metrics_ctx;
  std::unique_ptr<gateways::stream::event_context> events_ctx;
  std::unique_ptr<rest::inventory_context> inventory_ctx;
  std::unique_ptr<rest::cluster_context> cluster_ctx;
  std::unique_ptr<rest::notification_context> notifications_ctx;
  std::unique_ptr<gateways::pki::pki_admin_context> pki_admin;
  std::unique_ptr<gateways::acme::acme_server> acme;
  std::unique_ptr<gateways::est::est_server> est;
  gateways::scep::scep_gateway scep;
  std::unique_ptr<http::router> router;
  std::set<std::string> groups;
  std::atomic<int> auth_failures{0};
};

/// "/api/v1/certificates/{id}/renew" -> "/api/v1/certificates/sweep-1/renew".
std::string concrete(const std::string& pattern) {
  static const std::regex param(R"(\{[^}/]+\})");
  return std::regex_replace(pattern, param, "sweep-1");
}

std::string describe(const http::router::route_info& r) {
  return r.method + " " + r.pattern;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_protected_route_is_401_without_or_with_a_wrong_key_and_403_per_role) {
  full_server s;
  const auto routes = s.router->routes();
  BOOST_TEST_REQUIRE(routes.size() > 100u, "only " << routes.size() << " routes registered");
  int checked = 0, denials = 0;
  for (const auto& r : routes) {
    if (r.rule.is_public()) continue;
    ++checked;
    const std::string path = concrete(r.pattern);
    const auto none = s.send(r.method, path, std::nullopt);
    BOOST_TEST(none.status == 401, describe(r) << " without a key: " << none.status);
    const auto wrong = s.send(r.method, path, std::string("Bearer not-a-configured-key"));
    BOOST_TEST(wrong.status == 401, describe(r) << " with a wrong key: " << wrong.status);
    const auto malformed = s.send(r.method, path, std::string("Basic a2V5LWFkbWluLTE="));
    BOOST_TEST(malformed.status == 401, describe(r) << " with a non-bearer credential");
    for (const auto& [who, key] : keys_by_role) {
      if (r.rule.admits(who)) continue;
      const auto denied = s.send(r.method, path, "Bearer " + std::string(key));
      BOOST_TEST(denied.status == 403,
                 describe(r) << " as " << http::to_string(who) << ": " << denied.status);
      ++denials;
    }
  }
  BOOST_TEST_MESSAGE("swept " << checked << " protected routes of " << routes.size() << ", "
                              << denials << " role denials");
  BOOST_TEST(checked >= 70);  // 73 when written: guards against an enumeration gone empty
  // Every refusal reached the audit hook (3 x 401 per route, plus each 403).
  BOOST_TEST(s.auth_failures.load() == 3 * checked + denials);
}

BOOST_AUTO_TEST_CASE(public_routes_are_exactly_the_listed_ones) {
  // Health and version probes, the auth-mode probe, and the ACME protocol (authenticated by JWS,
  // not API keys). Adding a public route means adding it here, in review.
  const std::set<std::string> allowed = {
      "GET /health",
      "GET /ready",
      "GET /api/v1/version",
      "GET /api/v1/auth/info",
  };
  full_server s;
  std::set<std::string> seen;
  int acme_routes = 0, est_routes = 0;
  for (const auto& r : s.router->routes()) {
    if (!r.rule.is_public()) continue;
    const std::string name = describe(r);
    // SCEP (RFC 8894) authenticates by challenge password or signer certificate.
    const bool acme_protocol =
        r.pattern.rfind("/acme/", 0) == 0 || r.pattern.rfind("/scep/", 0) == 0;
    // EST authenticates by HTTP Basic or TLS client certificates per profile, not API keys.
    const bool est_protocol = r.pattern.rfind("/.well-known/est/", 0) == 0;
    acme_routes += acme_protocol ? 1 : 0;
    est_routes += est_protocol ? 1 : 0;
    if (!acme_protocol && !est_protocol) seen.insert(name);
    BOOST_TEST((acme_protocol || est_protocol || allowed.count(name) == 1),
               name << " is public but not on the list of public routes");
  }
  for (const auto& a : allowed) BOOST_TEST(seen.count(a) == 1, a << " is listed but not public");
  BOOST_TEST(acme_routes > 0);
  BOOST_TEST(est_routes == 5);  // the legacy root profile's five operations
}

BOOST_AUTO_TEST_CASE(agent_keys_reach_only_the_agent_operations) {
  const std::set<std::string> agent_operations = {
      "POST /api/v1/agents/{id}/heartbeat",
      "GET /api/v1/agents/{id}/work",
      "POST /api/v1/agents/{id}/csr",
      "GET /api/v1/agents/{id}/certificates/{cert_id}",
      "GET /api/v1/jobs/{id}",
      // the agent probes what it deployed and records it
      "POST /api/v1/jobs/{id}/verify",
      "GET /api/v1/jobs/{id}/verification",
      "POST /api/v1/agents/{id}/jobs/{job_id}/status",
      "POST /api/v1/agents/{id}/discoveries",
  };
  full_server s;
  std::set<std::string> admitted;
  for (const auto& r : s.router->routes()) {
    if (r.rule.admits(role::agent)) admitted.insert(describe(r));
  }
  BOOST_TEST((admitted == agent_operations));
  for (const auto& a : admitted) BOOST_TEST(agent_operations.count(a) == 1, a);
  for (const auto& a : agent_operations) BOOST_TEST(admitted.count(a) == 1, a << " not admitted");
}

BOOST_AUTO_TEST_CASE(viewer_keys_write_nothing_and_only_admin_exports_a_private_key) {
  full_server s;
  for (const auto& r : s.router->routes()) {
    if (r.rule.is_public()) continue;
    if (r.method != "GET") {
      BOOST_TEST(!r.rule.admits(role::viewer), describe(r) << " admits viewer keys");
    }
    if (r.pattern.find("/export/pkcs12") != std::string::npos) {
      BOOST_TEST(r.rule.describe() == "admin", describe(r) << ": " << r.rule.describe());
    }
  }
}

BOOST_AUTO_TEST_CASE(the_sweep_registers_every_route_group_the_server_registers) {
  std::ifstream in(std::string(CERTCTL_SOURCE_DIR) + "/tools/server/main.cpp");
  BOOST_REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  static const std::regex call(R"(add_(\w+?)_routes\(\s*router\b)");
  std::set<std::string> in_main;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), call);
       it != std::sregex_iterator(); ++it)
    in_main.insert((*it)[1].str());
  BOOST_REQUIRE(!in_main.empty());
  full_server s;
  for (const auto& g : in_main)
    BOOST_TEST(s.groups.count(g) == 1,
               "main() registers add_" << g << "_routes, the sweep does not");
}
