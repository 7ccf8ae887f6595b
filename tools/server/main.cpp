// certctl-server: the control plane on one node. Wires config -> event store -> entity
// runtime -> projections -> local CA -> HTTPS REST gateway, then serves until SIGINT/SIGTERM.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "actors/cluster/cluster_node.hpp"
#include "actors/cluster/owned_work_source.hpp"
#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/audit_checkpoint.hpp"
#include "actors/schedulers/deployment_timeout.hpp"
#include "actors/schedulers/health_probe.hpp"
#include "actors/schedulers/job_retry.hpp"
#include "actors/schedulers/network_scan.hpp"
#include "actors/schedulers/scheduler_runtime.hpp"
#include "actors/workflows/ca_revocation.hpp"
#include "actors/workflows/deployment.hpp"
#include "actors/workflows/issuance_service.hpp"
#include "actors/workflows/issuer_resolver.hpp"
#include "actors/workflows/revocation_cache.hpp"
#include "connectors/builtin.hpp"
#include "connectors/config_service.hpp"
#include "connectors/issuers/local/local_ca.hpp"
#include "domain/aggregate.hpp"
#include "gateways/acme/acme_routes.hpp"
#include "gateways/acme/shared_nonce_log.hpp"
#include "gateways/est/est_routes.hpp"
#include "gateways/http/health_routes.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/key_file.hpp"
#include "gateways/http/router.hpp"
#include "gateways/http/static_files.hpp"
#include "gateways/pki/pki_handler.hpp"
#include "gateways/pki/pki_routes.hpp"
#include "gateways/rest/agent_job_routes.hpp"
#include "gateways/rest/api_key_routes.hpp"
#include "gateways/rest/approval_routes.hpp"
#include "gateways/rest/auth_agent_binding.hpp"
#include "gateways/rest/auth_failure_log.hpp"
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
#include "infra/crypto/sha256.hpp"
#include "infra/fault_point.hpp"
#include "infra/kafka/relay.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/net/outbound_guard.hpp"
#include "infra/scep_config.hpp"
#include "infra/store/event_store.hpp"
#include "infra/store/postgres_store.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_queries.hpp"
#include "projections/projector.hpp"
#include "projections/standard_projections.hpp"
#include "tools/server/cloud_discovery_wiring.hpp"
#include "tools/server/due_work_adapter.hpp"
#include "tools/server/governance_adapter.hpp"
#include "tools/server/health_check_adapter.hpp"
#include "tools/server/notification_wiring.hpp"
#include "tools/server/revocation_reader_adapter.hpp"

namespace {

/// Where tools/build.sh puts the built dashboard: build/dashboard, beside this binary's
/// build/tools/server. "" when the executable's path is unknown.
std::string default_dashboard_dir() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : (exe.parent_path() / "../../dashboard").lexically_normal().string();
}

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
  stop_requested = 1;
}
volatile std::sig_atomic_t reload_requested = 0;
void on_reload(int) {
  reload_requested = 1;
}

/// For CERTCTL_SERVER_PORT=0: a free port, chosen before the CA puts this server's URL into the
/// certificates it issues (CRL and OCSP locations must name the real port). 0 on failure.
int reserve_free_port(const std::string& host) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  if (::inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return 0;
  }
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

/// This node's cluster membership from the configuration; `api_url` is its REST address as
/// other nodes and operators reach it.
certctl::cluster::node_options cluster_options(const certctl::infra::server_config& cfg,
                                               const std::string& api_url) {
  certctl::cluster::node_options o;
  o.api_url = api_url;
  o.bus.bootstrap_servers = cfg.kafka_bootstrap_servers;
  for (const auto& [k, v] : cfg.kafka_properties) o.bus.properties.push_back({k, v});
  o.bus.commands_topic = cfg.cluster_commands_topic;
  o.bus.group_id = cfg.cluster_group_id;
  o.bus.session_timeout = std::chrono::milliseconds(cfg.cluster_session_timeout_ms);
  o.bus.request_timeout = std::chrono::milliseconds(cfg.cluster_request_timeout_ms);
  o.bus.fetch_wait = std::chrono::milliseconds(cfg.cluster_fetch_wait_ms);
  o.bus.node_id = cfg.node_id();
  return o;
}

int fail(const std::string& message, int code = 1) {
  std::cerr << "certctl-server: " << message << "\n";
  return code;
}

}  // namespace

int main() {
  using namespace certctl;
  namespace fs = std::filesystem;
  namespace http = gateways::http;

  auto cfg = infra::load_config([](const char* n) { return std::getenv(n); });
  if (!cfg) return fail("configuration error: " + cfg.error().message, 2);
  if (!infra::fault_injection_usable())
    return fail(
        "CERTCTL_TEST_FAULT_FILE is set, but this build has no fault injection "
        "(configure with -DCERTCTL_FAULT_INJECTION=ON)",
        2);
  std::error_code ec;
  fs::create_directories(cfg->data_dir, ec);
  if (ec) return fail("cannot create CERTCTL_DATA_DIR " + cfg->data_dir + ": " + ec.message(), 2);
  const std::string data_dir = fs::absolute(cfg->data_dir).lexically_normal().string();

  // Declared before the store, the issuance service and the router, whose hooks feed it, so
  // that it outlives them all.
  infra::system_clock clock;
  infra::metrics metrics(clock, CERTCTL_VERSION);
  store::store_options store_opts;
  gateways::rest::observe_event_store(store_opts, metrics);
  auto store = store::open_event_store(cfg->store_url(), store_opts);
  if (!store) return fail(store.error().message);
  std::cout << "event store: " << (*store)->backend() << " " << store::redact_uri(cfg->store_url())
            << "\n";

  actors::entity_runtime runtime(**store, clock);

  auto db = sql::database::open(cfg->store_url());
  if (!db) return fail("read models: " + db.error().message);
  projections::projector projector(**store, *db);
  if (auto added = projections::add_standard_projections(projector); !added)
    return fail("projector: " + added.error().message);
  // In a cluster the projector writes only on the node that owns it (a singleton below); the
  // others follow its checkpoints.
  if (cfg->cluster_enabled) {
    if (auto prepared = projector.prepare(); !prepared)
      return fail("projector: " + prepared.error().message);
    projector.set_standby(true);
  }
  if (auto started = projector.start(); !started)
    return fail("projector: " + started.error().message);
  // The Kafka event relay (DESIGN §8): started here on a single node, by its owner in a cluster.
  std::unique_ptr<kafka::relay> relay;
  kafka::relay_options kopts;
  kopts.bootstrap_servers = cfg->kafka_bootstrap_servers;
  kopts.topic = cfg->kafka_topic;
  for (const auto& [k, v] : cfg->kafka_properties) kopts.properties.push_back({k, v});
  auto start_relay = [&]() -> certctl::result<certctl::done, std::string> {
    auto made = kafka::relay::create(**store, *db, kopts);
    if (!made) return made.error().message;
    relay = std::move(made).value();
    if (auto started = relay->start(); !started) return started.error().message;
    std::cout << "kafka relay: topic " << cfg->kafka_topic << " at " << cfg->kafka_bootstrap_servers
              << std::endl;
    return certctl::done{};
  };
  if (!cfg->kafka_bootstrap_servers.empty() && !cfg->cluster_enabled) {
    if (auto started = start_relay(); !started) return fail(started.error());
  }
  // Before the issuance service: its workers ask this for retry intervals until they stop.
  server::due_work_adapter due_work(*db);

  if (cfg->port == 0) {
    cfg->port = reserve_free_port(cfg->host);
    if (cfg->port == 0) return fail("cannot find a free port on " + cfg->host);
  }
  if (cfg->pki_http_port == 0) {  // like the HTTPS port: resolved before the CA embeds it
    cfg->pki_http_port = reserve_free_port(cfg->host);
    if (cfg->pki_http_port == 0) return fail("cannot find a free PKI port on " + cfg->host);
  }
  const std::string public_url = cfg->pki_base_url.empty()
                                     ? "https://" + cfg->host + ":" + std::to_string(cfg->port)
                                     : cfg->pki_base_url;

  // Cluster membership (DESIGN §9). Started before anything sends a command: from then on the
  // runtime routes commands for entities owned elsewhere through Kafka.
  std::unique_ptr<cluster::cluster_node> node;
  std::unique_ptr<cluster::owned_work_source> owned_work;
  if (cfg->cluster_enabled) {
    node = std::make_unique<cluster::cluster_node>(
        runtime, *db, clock,
        cluster_options(*cfg, "https://" + cfg->host + ":" + std::to_string(cfg->port)));
    node->add_singleton({"projector", [&projector] { projector.set_standby(false); },
                         [&projector] { projector.set_standby(true); }});
    node->add_singleton({"kafka-relay",
                         [&] {
                           if (auto started = start_relay(); !started)
                             std::cerr << "kafka relay: " << started.error() << std::endl;
                         },
                         [&relay] {
                           if (relay) relay->stop();
                           relay.reset();
                         }});
    owned_work = std::make_unique<cluster::owned_work_source>(
        due_work, [n = node.get()](const std::string& stream) { return n->is_local(stream); });
  }
  // CRL and OCSP clients fetch over plain http: with a PKI port and no explicit base URL,
  // certificates point there.
  const std::string pki_url =
      !cfg->pki_base_url.empty() || cfg->pki_http_port < 0
          ? public_url
          : "http://" + cfg->host + ":" + std::to_string(cfg->pki_http_port);
  connectors::local_ca_config ca_cfg;
  ca_cfg.data_dir = data_dir + "/ca";
  ca_cfg.ca_cert_path = cfg->ca_cert_path;
  ca_cfg.ca_key_path = cfg->ca_key_path;
  ca_cfg.pki_base_url = pki_url;
  ca_cfg.clock = &clock;
  auto ca = connectors::open_local_ca(ca_cfg);
  if (!ca) return fail("local CA: " + ca.error().message);

  // One KEK for every node when given (cluster mode requires it), else this node's own.
  auto master = cfg->key_encryption_key_file.empty()
                    ? crypto::load_or_create_master_key(data_dir + "/master.key")
                    : crypto::load_key_file(cfg->key_encryption_key_file);
  if (!master) return fail("master key: " + master.error().message);
  crypto::key_encryption_keys keks{*master, {}};
  for (const auto& f : cfg->key_encryption_key_previous_files) {
    auto old = crypto::load_key_file(f);
    if (!old) return fail("previous key-encryption key: " + old.error().message);
    keks.previous.push_back(*old);
  }
  // Cluster mode: keys in the shared database, so any node can use any key (docs/cluster.md).
  auto keys = cfg->cluster_enabled ? crypto::key_store::open_shared(*db, keks)
                                   : crypto::key_store::open(data_dir + "/keys", *master);
  if (!keys) return fail("key store: " + keys.error().message);
  if (!keks.previous.empty()) {
    auto resealed = keys->reseal_all();
    if (!resealed)
      return fail("re-sealing under the new key-encryption key: " + resealed.error().message);
    std::cout << "key store: re-sealed " << *resealed << " keys under key-encryption key "
              << crypto::kek_id(keks.current) << std::endl;
  }
  // Signed checkpoints of the audit chain (docs/architecture.md "Audit"): the key stays in the
  // key store, its public half is written for auditors; once per cluster (a singleton).
  auto checkpoint_pub = schedulers::ensure_checkpoint_key(*keys);
  if (!checkpoint_pub) return fail(checkpoint_pub.error().message);
  if (auto w =
          crypto::write_file_atomic(data_dir + "/audit-checkpoint.pub.pem", *checkpoint_pub, 0644);
      !w)
    return fail("audit checkpoint public key: " + w.error().message);
  // Shared with the singleton's callbacks, which the node may run after this scope's locals are
  // gone; the guard stops the thread when main unwinds, before the key store it reads is closed.
  std::shared_ptr<schedulers::checkpoint_loop> checkpoints;
  std::shared_ptr<void> stop_checkpoints;
  if (cfg->audit_checkpoint_every_events > 0 || cfg->audit_checkpoint_interval_seconds > 0) {
    schedulers::checkpoint_options cp_opts;
    cp_opts.every_events = cfg->audit_checkpoint_every_events;
    cp_opts.interval = std::chrono::seconds(cfg->audit_checkpoint_interval_seconds);
    cp_opts.file = cfg->audit_checkpoint_file;
    if (cfg->cluster_enabled) cp_opts.node_id = cfg->node_id();  // each node signs with its key
    cp_opts.on_log = [](const std::string& line) { std::cout << line << std::endl; };
    checkpoints = std::make_shared<schedulers::checkpoint_loop>(**store, clock, *keys, cp_opts);
    stop_checkpoints = std::shared_ptr<void>(nullptr, [cp = checkpoints](void*) { cp->stop(); });
    if (node)
      node->add_singleton({"audit-checkpoint", [cp = checkpoints] { cp->start(); },
                           [cp = checkpoints] { cp->stop(); }});
    else
      checkpoints->start();
  }
  // Tree mode: intermediate CAs under the local CA, keys in the same key store. Before the
  // issuance service, whose workers use it until they stop.
  auto hierarchy = actors::open_hierarchy(ca_cfg, runtime, *keys);
  if (!hierarchy) return fail("CA hierarchy: " + hierarchy.error());
  // Connector types (connectors/builtin.cpp); issuer configs are checked against them and their
  // secrets sealed with the master key at the REST edge.
  connectors::connector_registry connector_types;
  const net::outbound_guard connector_outbound(cfg->outbound_allow_cidrs);
  connectors::builtin_context connector_context{ca->get(), hierarchy->get(), &connector_outbound};
  connector_context.outbound_allow = cfg->outbound_allow_cidrs;
  connector_context.on_vault_token_renewal = [&metrics](const std::string& result) {
    metrics.observe_vault_token_renewal(result);
  };
  connector_context.keys = &*keys;
  connector_context.certificate_by_serial = [&db = *db](const std::string& serial) {
    auto v = projections::find_version_by_serial(*db, serial);
    return v && *v ? std::optional<std::string>((*v)->pem_chain) : std::nullopt;
  };
  if (auto r = connectors::register_builtin_connectors(connector_types, connector_context); !r)
    return fail("connectors: " + r.error());
  connectors::config_service connector_configs(connector_types, *master);
  actors::issuance_service issuance(runtime, **ca, *keys,
                                    static_cast<size_t>(cfg->issuance_workers));
  // One connector per issuer config, shared by issuance and CA revocation (a Vault token and
  // its renewal loop exist once).
  // In a cluster the issuer entity is usually owned elsewhere: read it at most once a second.
  auto issuer_connectors = actors::make_issuer_lookup(
      runtime, connector_configs,
      cfg->cluster_enabled ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(0));
  issuance.set_issuer_resolver(actors::make_issuer_resolver(issuer_connectors));
  actors::ca_revocation_service ca_revocations(runtime, **store, issuer_connectors);
  gateways::rest::observe_issuance(issuance, metrics);
  actors::order_policy orders;
  std::string ladder_error;
  orders.ladder = actors::parse_poll_ladder(cfg->order_poll_schedule, ladder_error);
  if (!ladder_error.empty()) return fail("CERTCTL_ORDER_POLL_SCHEDULE: " + ladder_error);
  orders.now = [&clock] { return clock.now(); };
  issuance.set_order_policy(std::move(orders));
  issuance.set_retry_schedule(schedulers::make_retry_schedule(due_work, clock));
  // Every issued version goes to the certificate's targets (issue 12).
  issuance.set_issued_listener([&runtime](const actors::issuance_task& t, const std::string& v,
                                          const events::json_object& cert) {
    actors::deploy_after_issuance(runtime, cert, v, t.correlation_id);
  });
  issuance.set_profile_lookup(
      [&db = *db](const std::string& id) -> std::optional<events::json_object> {
        auto doc = projections::get_resource(*db, "profile", id);
        if (!doc || !doc->has_value()) return std::nullopt;
        return events::json_object::parse(**doc);
      });
  // Governance: the policy rules are checked before every issuance, whatever its source, and
  // swept over the inventory so existing certificates are reported too.
  server::governance_adapter governance_reads(*db);
  actors::policy_engine policies(runtime, governance_reads);
  schedulers::policy_sweep policy_sweep(policies, governance_reads);
  issuance.set_issuance_gate([&policies](const actors::issuance_task& t) {
    return policies.check(t.certificate_id, t.certificate,
                          t.principal.empty() ? "system:issuance" : t.principal);
  });
  // Renewal, expiry, retries, timeouts and agent health; server keygen jobs go to issuance.
  actors::issuance_handoff handoff;
  if (cfg->keygen_mode == "server")
    handoff = [&issuance](actors::issuance_task t) { issuance.enqueue(std::move(t)); };
  schedulers::scheduler_options sched_opts;
  sched_opts.timeouts.running_timeout = std::chrono::seconds(cfg->job_running_timeout_seconds);
  // A short timeout is only useful if the loop looks often enough to notice it.
  sched_opts.timeouts_every = std::min<std::chrono::seconds>(
      sched_opts.timeouts_every,
      std::chrono::seconds(std::max(1, cfg->job_running_timeout_seconds / 4)));
  sched_opts.jobs.fresh_job_grace = std::chrono::seconds(cfg->job_fresh_grace_seconds);
  sched_opts.jobs_every =
      std::min<std::chrono::seconds>(sched_opts.jobs_every, sched_opts.jobs.fresh_job_grace);
  // Deployment jobs whose agent never reports fail after CERTCTL_DEPLOYMENT_TIMEOUT.
  schedulers::deployment_timeout deployment_timeouts(
      runtime, owned_work ? static_cast<schedulers::due_work_source&>(*owned_work) : due_work,
      std::chrono::seconds(cfg->deployment_timeout_seconds));
  sched_opts.extra_loops.push_back(
      {"deployments", std::chrono::seconds(std::clamp(cfg->deployment_timeout_seconds / 4, 1, 60)),
       [&deployment_timeouts](events::timestamp_us now) { return deployment_timeouts.tick(now); }});
  sched_opts.tick_interval = std::min<std::chrono::milliseconds>(
      sched_opts.tick_interval,
      std::chrono::seconds(std::clamp(cfg->deployment_timeout_seconds / 4, 1, 5)));
  sched_opts.extra_loops.push_back(
      {"policies", std::chrono::minutes(5),
       [&policy_sweep](events::timestamp_us now) { return policy_sweep.tick(now); }});
  // Endpoint health checks (docs/health-checks.md): probes run on their own pool, through the
  // outbound guard; the loop only hands out the due ones.
  net::outbound_guard health_guard(cfg->outbound_allow_cidrs);
  server::health_check_adapter health_reads(
      *db, node ? server::health_check_adapter::ownership(
                      [n = node.get()](const std::string& stream) { return n->is_local(stream); })
                : nullptr);
  std::optional<schedulers::health_probe_loop> health_probes;
  if (cfg->health_check_enabled) {
    health_probes.emplace(runtime, health_reads, clock,
                          schedulers::tls_endpoint_prober(health_guard));
    health_probes->on_probe([](const schedulers::tick_report& r) {
      if (!r.actions.empty() && !r.actions.front().ok)
        std::cout << "scheduler " << schedulers::summary(r) << std::endl;
    });
    const std::chrono::seconds every(std::clamp(cfg->health_check_min_interval_seconds / 3, 1, 10));
    sched_opts.tick_interval = std::min<std::chrono::milliseconds>(sched_opts.tick_interval, every);
    sched_opts.extra_loops.push_back({"health", every, [&health_probes](events::timestamp_us now) {
                                        return health_probes->tick(now);
                                      }});
  }
  // The network TLS scanner (docs/discovery.md): on-demand scans always, the periodic loop
  // when CERTCTL_NETWORK_SCAN_ENABLED; each node scans the targets whose stream it owns.
  schedulers::network_scanner network_scans(runtime, health_guard, clock,
                                            schedulers::tls_scan_prober(health_guard));
  if (cfg->network_scan_enabled) {
    auto list = [&db, n = node.get()](std::string& error) {
      std::vector<events::json_object> out;
      for (std::int64_t page = 1;; ++page) {
        auto rows = projections::list_resources(**db, "network_scan_target", page, 500);
        if (!rows) {
          error = "network scan targets: " + rows.error().message;
          return out;
        }
        for (const auto& row : rows->data) {
          auto t = events::json_object::parse(row).value_or(events::json_object{});
          if (n == nullptr || n->is_local("network_scan_target-" + t.str("id")))
            out.push_back(std::move(t));
        }
        if (page * 500 >= rows->total) return out;
      }
    };
    sched_opts.extra_loops.push_back({"network-scan",
                                      std::chrono::seconds(cfg->network_scan_interval_seconds),
                                      [&network_scans, list](events::timestamp_us now) {
                                        return network_scans.tick(now, list);
                                      }});
  }
  // ARI (RFC 9773): the CA may bring a renewal forward; thresholds stay the fallback.
  sched_opts.ari_every = std::chrono::seconds(cfg->ari_check_interval_seconds);
  sched_opts.ari.advice = [windows = actors::make_renewal_window_lookup(
                               runtime, actors::make_issuer_resolver(issuer_connectors),
                               [&db = *db](const std::string& id) -> std::optional<std::string> {
                                 auto v = projections::get_latest_certificate_version(*db, id);
                                 if (!v || !*v) return std::nullopt;
                                 return (*v)->pem_chain;
                               })](const schedulers::due_certificate& c)
      -> certctl::result<std::optional<schedulers::suggested_window>, std::string> {
    auto w = windows(c.id);
    if (!w) return w.error();
    if (!*w) return std::optional<schedulers::suggested_window>{};
    return std::optional<schedulers::suggested_window>({(*w)->start_us, (*w)->end_us});
  };
  // Pending asynchronous CA orders (ACME), followed on the issuance workers.
  sched_opts.orders.poll = [&issuance](const schedulers::due_job& j, const std::string& corr) {
    issuance.poll_order(j.id, j.certificate_id, corr);
  };
  sched_opts.on_report = [](const schedulers::tick_report& r) {
    std::cout << "scheduler " << schedulers::summary(r) << std::endl;
  };
  // The default issuer exists after first start; "already exists" is the normal answer later.
  domain::command seed;
  seed.name = "issuer.create";
  seed.entity_id = "iss-local";
  seed.body.set("name", "Local CA").set("type", "GenericCA");
  seed.principal = "system:bootstrap";
  seed.command_id = "bootstrap-issuer-iss-local";  // every node sends it; one takes effect
  if (node) {
    node->on_first_join(
        [&runtime, seed] { runtime.submit("issuer", seed, [](actors::command_result) {}); });
    if (auto started = node->start(); !started) return fail(started.error());
    std::cout << "cluster: node " << node->options().bus.node_id << ", commands topic "
              << cfg->cluster_commands_topic << " at " << cfg->kafka_bootstrap_servers << std::endl;
  } else {
    runtime.execute("issuer", seed);
  }
  schedulers::scheduler_runtime scheduler(
      runtime, owned_work ? static_cast<schedulers::due_work_source&>(*owned_work) : due_work,
      clock, handoff, sched_opts);
  scheduler.start();
  // Notifications (docs/notifications.md): one node of a cluster sends (a singleton).
  auto notifications = server::notification_services::make(*cfg, connector_types, runtime, **store,
                                                           *db, clock, metrics);
  if (!notifications) return fail(notifications.error(), 2);
  std::cout << "notification channels: " << (*notifications)->channel_list() << std::endl;
  if (node)
    node->add_singleton({"notifications", [n = notifications->get()] { n->start(); },
                         [n = notifications->get()] { n->stop(); }});
  else
    (*notifications)->start();
  // Cloud secret-store discovery (docs/discovery.md, "Cloud sources"): one node lists.
  auto cloud_discovery =
      server::cloud_discovery_service::make(*cfg, connector_types, clock, runtime);
  if (!cloud_discovery) return fail("cloud discovery: " + cloud_discovery.error(), 2);
  if (auto* cd = cloud_discovery->get()) {
    std::cout << "cloud discovery sources: " << cd->source_list() << std::endl;
    if (node)
      node->add_singleton({"cloud-discovery", [cd] { cd->start(); }, [cd] { cd->stop(); }});
    else
      cd->start();
  }

  // CRL and OCSP (gateways/pki); after the seed, because CRL numbers are issuer events.
  actors::revocation_cache_options revocation_opts;
  revocation_opts.crl_validity = std::chrono::hours(cfg->crl_validity_hours);
  revocation_opts.ocsp_validity = std::chrono::hours(cfg->ocsp_validity_hours);
  revocation_opts.load_in_background = true;  // ready without waiting for N certificates
  actors::revocation_cache revocation(
      std::make_shared<server::revocation_reader_adapter>(
          *db, [&projector] { return projector.projected_position(); }),
      clock, revocation_opts);
  gateways::pki::add_local_ca_authority(revocation, **ca, runtime);
  gateways::pki::add_intermediate_authorities(revocation, **hierarchy, clock);
  if (auto started = revocation.start(); !started) return fail(started.error());
  gateways::pki::pki_handler pki(revocation);

  // HTTPS: configured material, or a serving certificate from the local CA on first start.
  std::string cert_file = cfg->tls_cert_path, key_file = cfg->tls_key_path;
  const std::string bundle = data_dir + "/ca-bundle.pem";
  crypto::write_file_atomic(bundle, (*ca)->ca_chain_pem(), 0644);
  if (cert_file.empty()) {
    cert_file = data_dir + "/tls/server.crt";
    key_file = data_dir + "/tls/server.key";
    if (!fs::exists(cert_file) || !fs::exists(key_file)) {
      fs::create_directories(data_dir + "/tls", ec);
      auto creds = (*ca)->issue_server_certificate({cfg->host, "localhost", "127.0.0.1"});
      if (!creds) return fail("serving certificate: " + creds.error().message);
      crypto::write_file_atomic(key_file, creds->key_pem, 0600);
      crypto::write_file_atomic(cert_file, creds->cert_pem + creds->chain_pem, 0644);
    }
  }

  gateways::stream::event_stream_options sse_opts;
  sse_opts.keep_alive = std::chrono::milliseconds(cfg->sse_keep_alive_ms);
  sse_opts.max_buffered_events = static_cast<std::size_t>(cfg->sse_max_buffered_events);
  sse_opts.max_buffered_bytes = static_cast<std::size_t>(cfg->sse_max_buffered_bytes);
  sse_opts.max_streams = static_cast<std::size_t>(cfg->sse_max_streams);

  http::router_options ropts;
  ropts.auth_enabled = cfg->auth_type != "none";
  ropts.wait_for_position = [&projector](std::int64_t pos, std::chrono::milliseconds max) {
    return projector.wait_for_position(pos, max);
  };
  gateways::rest::auth_failure_log auth_failures(**store, clock);
  ropts.on_auth_failure = [&auth_failures](const http::auth_event& e) { auth_failures.record(e); };
  gateways::rest::observe_auth_failures(ropts, metrics);
  gateways::rest::observe_http_requests(ropts, metrics);
  auto api_keys = http::bootstrap_keys(cfg->api_keys_named, data_dir);
  if (!api_keys) return fail("API keys: " + api_keys.error().message, 2);
  std::set<std::string> configured_key_names;
  for (const auto& k : api_keys->store.records()) configured_key_names.insert(k.name);
  gateways::rest::managed_key_directory managed_keys(**db, clock, configured_key_names);
  ropts.managed_keys = [&managed_keys](std::string_view token) {
    return managed_keys.authenticate(token);
  };
  gateways::rest::bind_agent_keys(ropts, runtime);
  http::router router(api_keys->store, ropts);
  http::add_health_routes(
      router, {[&]() -> http::readiness {
                 auto head = (*store)->head_position();
                 if (!head) return {false, head.error().message};
                 if (node && !node->ready()) {
                   const auto s = node->status();
                   return {false,
                           "cluster: not joined yet" +
                               (s.last_error.empty() ? std::string() : " (" + s.last_error + ")")};
                 }
                 return {true, ""};
               },
               {}});
  gateways::rest::write_context writes{runtime, issuance, handoff};
  writes.hooks["issuer"] = gateways::rest::issuer_config_hook(connector_configs, runtime);
  writes.hooks["agent_group"] = gateways::rest::agent_group_hook();
  writes.policies = &policies;
  writes.after_revoke = [&ca_revocations](const std::string& id, const std::string& correlation) {
    ca_revocations.notify(id, correlation);
  };
  writes.hooks["target"] = gateways::rest::target_config_hook(connector_configs, runtime);
  gateways::rest::add_write_routes(router, writes);
  gateways::rest::read_context reads{**db, projector, clock};
  gateways::rest::add_read_routes(router, reads);
  gateways::rest::governance_context governance{**db};
  gateways::rest::add_governance_routes(router, governance);
  gateways::rest::approval_context approvals{runtime, **db, handoff};
  gateways::rest::add_approval_routes(router, approvals);
  gateways::rest::verification_context verifications{runtime};
  gateways::rest::add_verification_routes(router, verifications);
  gateways::rest::api_key_context api_key_ctx{runtime, **db, projector, managed_keys};
  gateways::rest::add_api_key_routes(router, api_key_ctx);
  gateways::rest::health_check_context health_checks{runtime, **db,
                                                     cfg->health_check_min_interval_seconds};
  gateways::rest::add_health_check_routes(router, health_checks);
  gateways::rest::network_scan_context network_scan_ctx{network_scans};
  gateways::rest::add_network_scan_routes(router, network_scan_ctx);
  gateways::rest::key_export_context key_exports{**db, *keys, runtime};
  gateways::rest::add_key_export_routes(router, key_exports);
  gateways::rest::add_auth_routes(router, {cfg->auth_type});
  gateways::rest::bulk_context bulk{writes, **db, projector};
  gateways::rest::add_bulk_routes(router, bulk);
  gateways::rest::intermediate_context intermediates{runtime, **db, **hierarchy};
  gateways::rest::add_intermediate_routes(router, intermediates);
  gateways::rest::connector_context connectors_ctx{runtime, **db, connector_configs};
  gateways::rest::add_connector_routes(router, connectors_ctx);
  gateways::rest::deployment_context deployments{runtime, **db, connector_configs};
  gateways::rest::add_target_routes(router, deployments);
  gateways::rest::add_agent_job_routes(router, deployments);
  gateways::rest::discovery_context discovery_ctx{runtime, **db};
  gateways::rest::add_discovery_routes(router, discovery_ctx);
  gateways::rest::stats_context stats{**db, clock};
  gateways::rest::add_stats_routes(router, stats);
  gateways::rest::metrics_context metrics_ctx{metrics, **db, projector, clock, node.get()};
  gateways::rest::add_metrics_routes(router, metrics_ctx);
  gateways::stream::event_context events_ctx{**store, sse_opts};
  gateways::stream::add_event_routes(router, events_ctx);
  gateways::rest::inventory_context inventory_ctx{**store};
  gateways::rest::add_inventory_routes(router, inventory_ctx);
  gateways::rest::cluster_context cluster_ctx{node.get(), clock};
  gateways::rest::add_cluster_routes(router, cluster_ctx);
  gateways::rest::notification_context notifications_ctx{runtime, **db, clock,
                                                         (*notifications)->digest()};
  gateways::rest::add_notification_routes(router, notifications_ctx);
  gateways::pki::pki_admin_context pki_admin{revocation, **db, clock};
  gateways::pki::add_pki_admin_routes(router, pki_admin);
  gateways::acme::acme_context acme_ctx{**store, **db, runtime, issuance, *cfg, *keys, public_url};
  if (cfg->cluster_enabled && cfg->acme_server_enabled) {
    // Nonces any node can check: their MAC key derives from the KEK every node holds.
    const auto secret = crypto::hmac_sha256(
        std::string_view(reinterpret_cast<const char*>(master->data()), master->size()),
        "certctl-acme-nonce/v1");
    acme_ctx.nonce_secret.assign(reinterpret_cast<const char*>(secret.data()), secret.size());
    auto used = gateways::acme::make_shared_nonce_log(**db);
    if (!used) return fail("ACME nonces: " + used.error());
    acme_ctx.nonce_record = std::move(used).value();
  }
  auto acme = gateways::acme::add_acme_routes(router, acme_ctx);
  auto est = gateways::est::add_est_routes(
      router, {**store, **db, runtime, issuance, *cfg, **ca, connector_configs,
               [&auth_failures](const http::auth_event& e) { auth_failures.record(e); },
               [](const std::string& line) { std::cout << line << std::endl; }});
  if (!est) return fail("configuration error: " + est.error(), 2);
  // SCEP (gateways/scep): profiles validated here, before the server listens.
  auto scep_profiles = infra::load_scep_config([](const char* n) { return std::getenv(n); });
  if (!scep_profiles) return fail("configuration error: " + scep_profiles.error().message, 2);
  bool scep_mtls = false;  // the HTTPS listener then asks clients for a certificate
  for (const auto& p : *scep_profiles) scep_mtls = scep_mtls || p.mtls_enabled;
  auto scep_issuers = actors::make_issuer_resolver(issuer_connectors);
  auto scep = gateways::scep::add_scep_routes(
      router, {**store, **db, runtime, issuance, *keys, *cfg, std::move(*scep_profiles),
               [&ca, scep_issuers](const std::string& id, std::string& why) -> connectors::issuer* {
                 actors::issuance_task t;
                 t.certificate.set("issuer_id", id);
                 if (auto* i = scep_issuers(t, why)) return i;
                 return why.empty() && id == "iss-local" ? ca->get() : nullptr;
               },
               data_dir, [](const std::string& line) { std::cerr << line << std::endl; }});
  if (!scep) return fail("SCEP: " + scep.error(), 2);
  if (router.registration_error()) return fail("routes: " + *router.registration_error());

  http::server_config scfg;
  scfg.host = cfg->host;
  scfg.port = cfg->port;
  scfg.cert_file = cert_file;
  scfg.key_file = key_file;
  scfg.max_body_bytes = static_cast<size_t>(cfg->max_body_bytes);
  scfg.request_client_certificates =
      (*est && (*est)->wants_client_certificates()) || scep_mtls;  // EST, SCEP mTLS
  // The web dashboard (docs/dashboard.md): CERTCTL_DASHBOARD_DIR, else the build's output.
  http::static_files dashboard(cfg->dashboard_dir.empty() ? default_dashboard_dir()
                                                          : cfg->dashboard_dir);
  if (!cfg->dashboard_dir.empty() && !dashboard.enabled())
    return fail(
        "configuration error: CERTCTL_DASHBOARD_DIR: no index.html in " + cfg->dashboard_dir, 2);
  std::cout << "dashboard: " << (dashboard.enabled() ? dashboard.root() : "not built") << "\n";
  http::http_server https(
      scfg,
      gateways::pki::with_pki(pki, http::with_static_files(dashboard, http::dispatch_to(router))));
  if (auto started = https.start(); !started) return fail(started.error().message);
  // /.well-known/pki/* only, plain HTTP, event-driven: thousands of keep-alive relying
  // parties without a thread each (gateways/pki/pki_listener.hpp).
  std::unique_ptr<gateways::pki::pki_listener> pki_http;
  if (cfg->pki_http_port > 0) {
    gateways::pki::listener_config pcfg;
    pcfg.host = cfg->host;
    pcfg.port = cfg->pki_http_port;
    pki_http = std::make_unique<gateways::pki::pki_listener>(
        pcfg, gateways::pki::pki_listener_handler(pki));
    if (auto started = pki_http->start(); !started)
      return fail("PKI port: " + started.error().message);
    std::cout << "PKI (CRL, OCSP) on http://" << cfg->host << ":" << pki_http->port() << "\n";
  }

  std::cout << "listening on https://" << cfg->host << ":" << https.port() << "\n"
            << "CA bundle: " << bundle << "\n";
  if (api_keys->generated_key)
    std::cout << "admin API key (shown once, store it now): " << *api_keys->generated_key << "\n";
  std::cout.flush();

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::signal(SIGHUP, on_reload);  // reloads the EST trust bundles and SCEP's Intune anchors
  while (!stop_requested) {
    if (reload_requested) {
      reload_requested = 0;
      for (const auto& failure : *est ? (*est)->reload_all_trust() : std::vector<std::string>{})
        std::cout << "SIGHUP: " << failure << std::endl;
      std::cout << "SIGHUP: trust bundles reloaded" << std::endl;
      if (scep->server)
        for (const auto& line : scep->server->reload_intune_trust()) std::cout << line << std::endl;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auth_failures.flush_expired();  // closes the auth.denied windows whose minute is up
  }
  scheduler.stop();
  (*notifications)->stop();
  if (checkpoints) checkpoints->stop();
  https.stop();
  auth_failures.flush_all();
  if (pki_http) pki_http->stop();
  revocation.stop();
  if (node) node->stop();  // stops its singletons (the relay, the projector's writing) first
  if (relay) relay->stop();
  projector.stop();
  return 0;
}
