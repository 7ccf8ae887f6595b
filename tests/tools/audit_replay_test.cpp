// certctl-audit replay and rebuild-projections, run as an operator runs them: the built
// binary against a store this test writes directly.
#include <rapidjson/document.h>
#include <sys/wait.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "events/time.hpp"
#include "infra/crypto/random.hpp"
#include "projections/audit_projection.hpp"
#include "projections/entity_projections.hpp"
#include "projections/projector.hpp"
#include "tests/projections/test_projections.hpp"
#include "tests/support/subprocess.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using testing::projection_env;

namespace {

const std::string audit_binary = std::string(CERTCTL_BINARY_DIR) + "/tools/audit/certctl-audit";

// T1 = 2026-11-27T08:00:00Z; the scripted history happens at T1, T2 and T3.
constexpr events::timestamp_us minute = 60LL * 1000000;
constexpr events::timestamp_us t1 = 1795766400LL * 1000000;
constexpr events::timestamp_us t2 = t1 + 60 * minute;
constexpr events::timestamp_us t3 = t1 + 120 * minute;

using testing::process_result;

/// Runs certctl-audit with `args`; standard output and error are kept apart.
process_result run_audit(const std::vector<std::string>& args) {
  return testing::run_shell(testing::command_line(audit_binary, args), true);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string cert_body(const std::string& name) {
  return "{\"name\":\"" + name + "\",\"common_name\":\"" + name +
         ".example.com\",\"sans\":[\"www." + name +
         ".example.com\"],\"environment\":\"prod\",\"owner_id\":\"o-1\",\"team_id\":\"t-1\","
         "\"issuer_id\":\"iss-1\",\"renewal_policy_id\":\"rp-1\"}";
}

std::string issued_body(const std::string& serial) {
  return "{\"job_id\":\"job-1\",\"serial_number\":\"" + serial +
         "\",\"not_before\":\"2026-11-27T09:00:00Z\",\"not_after\":\"2027-02-25T09:00:00Z\","
         "\"fingerprint_sha256\":\"ab12\",\"pem_chain\":\"PEM-" +
         serial + "\",\"key_algorithm\":\"ECDSA\",\"key_size\":256,\"renewal\":false}";
}

const std::string revoked_body =
    "{\"reason\":\"keyCompromise\",\"reason_code\":1,\"serial_number\":\"s-1\"}";

/// mc-b: created T1, issued T2, revoked T3. mc-a: created T2 + 1 min (sorts first by id).
/// Around them an issuer and an event of a kind no aggregate owns.
void script_history(projection_env& env) {
  env.append("certificate-mc-b", "certificate.created", cert_body("b"), "apikey-alice", t1);
  env.append("issuer-iss-1", "issuer.created", "{\"name\":\"Local\",\"type\":\"GenericCA\"}",
             "apikey-alice", t1 + minute / 60);
  env.append("auth-apikey-eve", "auth.failed", "{\"reason\":\"bad key\"}", "anonymous",
             t1 + minute / 30);
  env.append("certificate-mc-b", "certificate.issued", issued_body("s-1"), "system:issuer", t2);
  env.append("certificate-mc-a", "certificate.created", cert_body("a"), "apikey-alice",
             t2 + minute);
  env.append("certificate-mc-b", "certificate.revoked", revoked_body, "apikey-alice", t3);
}

rapidjson::Document replay(const std::string& url, const std::string& until,
                           const std::string& kind = "") {
  std::vector<std::string> args = {"replay", "--store", url, "--until", until};
  if (!kind.empty()) args.insert(args.end(), {"--kind", kind});
  auto r = run_audit(args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "replay exited " << r.exit_code << ": " << r.err);
  rapidjson::Document d;
  d.Parse(r.out.c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), "not a JSON object: " + r.out);
  return d;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<absent>";
  return v[key].GetString();
}

/// "id:status" of each element of the inventory list `key`, in output order.
std::vector<std::string> inventory(const rapidjson::Document& d, const char* key = "certificates") {
  std::vector<std::string> out;
  BOOST_REQUIRE(d.HasMember(key) && d[key].IsArray());
  for (const auto& c : d[key].GetArray()) out.push_back(str(c, "id") + ":" + str(c, "status"));
  BOOST_TEST(d["total"].GetInt64() == static_cast<std::int64_t>(out.size()));
  return out;
}

using strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_replay)

BOOST_DATA_TEST_CASE(the_inventory_follows_the_certificate_through_its_life,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  projection_env env(backend);
  script_history(env);
  const std::string url = env.log.url();

  auto before = replay(url, events::format_rfc3339(t1 - 1));
  BOOST_TEST(inventory(before).empty());
  BOOST_TEST(before["position"].GetInt64() == 0);
  BOOST_TEST(str(before, "as_of") == "2026-11-27T07:59:59.999999Z");

  auto pending = replay(url, "2026-11-27T08:30:00Z");
  BOOST_TEST(inventory(pending) == strings{"mc-b:Pending"});
  BOOST_TEST(pending["position"].GetInt64() == 3);  // the issuer and auth events are folded past
  const auto& b = pending["certificates"][0];
  BOOST_TEST(str(b, "common_name") == "b.example.com");
  BOOST_TEST(str(b, "created_at") == events::format_rfc3339(t1));
  BOOST_TEST(str(b, "expires_at") == "<absent>");

  // Between T2 and T3; an offset time means the same instant as its UTC form.
  auto active = replay(url, "2026-11-27T10:30:00+01:00");
  BOOST_TEST(str(active, "as_of") == "2026-11-27T09:30:00.000000Z");
  BOOST_TEST(active["position"].GetInt64() == 5);
  BOOST_TEST(inventory(active) == (strings{"mc-a:Pending", "mc-b:Active"}));
  BOOST_TEST(str(active["certificates"][1], "expires_at") == "2027-02-25T09:00:00Z");

  auto revoked = replay(url, "2026-11-28T00:00:00Z");
  BOOST_TEST(revoked["position"].GetInt64() == 6);
  BOOST_TEST(inventory(revoked) == (strings{"mc-a:Pending", "mc-b:Revoked"}));
  BOOST_TEST(str(revoked["certificates"][1], "revocation_reason") == "keyCompromise");
  BOOST_TEST(str(revoked["certificates"][1], "revoked_at") == events::format_rfc3339(t3));
}

BOOST_AUTO_TEST_CASE(until_is_inclusive_and_other_kinds_replay_too) {
  projection_env env("sqlite");
  script_history(env);
  // An event that occurred exactly at --until is part of the state then.
  auto at_t2 = replay(env.log.url(), events::format_rfc3339(t2));
  BOOST_TEST(inventory(at_t2) == strings{"mc-b:Active"});
  BOOST_TEST(at_t2["position"].GetInt64() == 4);

  auto issuers = replay(env.log.url(), "2026-11-28T00:00:00Z", "issuer");
  BOOST_TEST(str(issuers, "kind") == "issuer");
  BOOST_TEST(!issuers.HasMember("certificates"));
  BOOST_TEST(inventory(issuers, "issuers").size() == 1u);
  BOOST_TEST(str(issuers["issuers"][0], "id") == "iss-1");
  BOOST_TEST(str(issuers["issuers"][0], "name") == "Local");
}

BOOST_AUTO_TEST_CASE(replay_folds_a_prefix_of_the_log_in_position_order) {
  projection_env env("sqlite");
  script_history(env);
  // Committed after the revocation but stamped before it (a node with a slow clock).
  env.append("certificate-mc-c", "certificate.created", cert_body("c"), "apikey-alice",
             t3 - 30 * minute);
  // Between the stamp and T3: the walk ends at the revocation, so mc-c is not yet there.
  auto between = replay(env.log.url(), events::format_rfc3339(t3 - 10 * minute));
  BOOST_TEST(inventory(between) == (strings{"mc-a:Pending", "mc-b:Active"}));
  BOOST_TEST(between["position"].GetInt64() == 5);
  auto after = replay(env.log.url(), events::format_rfc3339(t3));
  BOOST_TEST(inventory(after) == (strings{"mc-a:Pending", "mc-b:Revoked", "mc-c:Pending"}));
  BOOST_TEST(after["position"].GetInt64() == 7);
}

BOOST_AUTO_TEST_CASE(bad_flags_exit_2_naming_the_flag) {
  projection_env env("sqlite");
  auto bad_time = run_audit({"replay", "--store", env.log.url(), "--until", "yesterday"});
  BOOST_TEST(bad_time.exit_code == 2);
  BOOST_TEST(contains(bad_time.err, "--until"), bad_time.err);
  auto no_until = run_audit({"replay", "--store", env.log.url()});
  BOOST_TEST(no_until.exit_code == 2);
  BOOST_TEST(contains(no_until.err, "--until"), no_until.err);
  auto bad_kind = run_audit(
      {"replay", "--store", env.log.url(), "--until", "2026-11-27T08:00:00Z", "--kind", "pet"});
  BOOST_TEST(bad_kind.exit_code == 2);
  BOOST_TEST(contains(bad_kind.err, "unknown kind \"pet\""), bad_kind.err);
  auto bad_projection =
      run_audit({"rebuild-projections", "--store", env.log.url(), "--projection", "pets"});
  BOOST_TEST(bad_projection.exit_code == 2);
  BOOST_TEST(contains(bad_projection.err, "unknown projection \"pets\""), bad_projection.err);
  for (const char* cmd : {"replay", "rebuild-projections"}) {
    auto help = run_audit({cmd, "--help"});
    BOOST_TEST(help.exit_code == 0);
    BOOST_TEST(contains(help.out, std::string("usage: certctl-audit ") + cmd));
  }
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

/// The read tables of the server's projections and their column counts (for dump's ORDER BY).
const std::vector<std::pair<std::string, int>> read_tables = {{"certificates", 16},
                                                              {"certificate_versions", 14},
                                                              {"jobs", 11},
                                                              {"resources", 9},
                                                              {"audit_events", 13}};

using table_dump = std::map<std::string, sql::rows>;

table_dump dump_all(projection_env& env) {
  table_dump out;
  for (const auto& [table, columns] : read_tables) out[table] = env.dump(table, columns);
  return out;
}

/// The scripted history plus jobs, a renewal and configuration entities (one deleted), each
/// projected as it is appended, the way the server's projector follows the log.
std::int64_t populate_live(projection_env& env) {
  projections::projector_options options;
  options.log_to_stderr = false;
  projections::projector live(env.log.store(), env.db, options);
  BOOST_REQUIRE(live.add(std::make_shared<projections::audit_projection>()).ok());
  BOOST_REQUIRE(projections::register_entity_projections(live).ok());
  std::int64_t last = 0;
  auto append = [&](const std::string& stream, const std::string& type,
                    const std::string& payload) {
    last = env.append(stream, type, payload, "apikey-alice", t3 + last * minute);
    BOOST_REQUIRE(*live.catch_up() == last);
  };
  script_history(env);
  BOOST_REQUIRE(*live.catch_up() == 6);
  last = 6;
  append("job-j1", "job.created",
         "{\"type\":\"Renewal\",\"certificate_id\":\"mc-a\",\"status\":\"Pending\","
         "\"max_attempts\":3,\"awaiting_csr_mode\":\"server\"}");
  append("certificate-mc-a", "certificate.issued", issued_body("s-2"));
  append("job-j1", "job.started", "{}");
  append("job-j1", "job.completed", "{\"version_id\":\"ver-2\"}");
  append("certificate-mc-a", "certificate.renewal_requested", "{\"job_id\":\"j2\"}");
  append("issuer-iss-old", "issuer.created", "{\"name\":\"Old\",\"type\":\"ACME\"}");
  append("issuer-iss-old", "issuer.deleted", "{}");
  append("renewal_policy-rp-1", "renewal_policy.created",
         "{\"name\":\"default\",\"renewal_window_days\":30}");
  append("agent-ag-1", "agent.registered", "{\"name\":\"edge-1\",\"hostname\":\"h1\"}");
  append("agent-ag-1", "agent.heartbeat_received", "{\"version\":\"2.0.1\"}");
  return last;
}

std::int64_t checkpoint_of(projection_env& env, const std::string& name) {
  auto r = env.db->query("SELECT position FROM projection_checkpoints WHERE name = ?", {name});
  BOOST_REQUIRE(r.ok() && r->size() == 1u);
  return r->front().int64(0).value_or(-1);
}

void exec(projection_env& env, const std::string& sql) {
  auto r = env.db->exec(sql);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_rebuild_projections)

BOOST_DATA_TEST_CASE(rebuilt_tables_equal_the_live_ones,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  projection_env env(backend);
  const std::int64_t last = populate_live(env);
  const table_dump live = dump_all(env);
  BOOST_TEST(live.at("audit_events").size() == static_cast<size_t>(last));
  BOOST_TEST(live.at("certificates").size() == 2u);
  BOOST_TEST(live.at("certificate_versions").size() == 2u);
  BOOST_TEST(live.at("resources").size() == 4u);  // the deleted issuer stays, flagged

  // Damage every table, so an identical result proves the tables were rebuilt from the log.
  exec(env, "DELETE FROM certificates WHERE id = 'mc-a'");
  exec(env, "DELETE FROM certificate_versions");
  exec(env, "UPDATE jobs SET status = 'Failed'");
  exec(env, "UPDATE resources SET deleted = 0");
  exec(env, "DELETE FROM audit_events WHERE position = 2");

  auto r = run_audit({"rebuild-projections", "--store", env.log.url()});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  const std::string n = std::to_string(last);
  for (const char* name : {"audit", "certificates", "jobs", "resources"}) {
    BOOST_TEST(contains(r.out, std::string(name) + ": " + n +
                                   " events applied, 0 skipped, "
                                   "position " +
                                   n + "\n"),
               r.out);
    BOOST_TEST(checkpoint_of(env, name) == last);
  }
  BOOST_TEST(contains(r.out, "rebuilt 4 projections up to position " + n + "\n"), r.out);

  const table_dump rebuilt = dump_all(env);
  for (const auto& [table, columns] : read_tables)
    BOOST_TEST((rebuilt.at(table) == live.at(table)), table << " differs after the rebuild");
}

BOOST_AUTO_TEST_CASE(one_named_projection_is_rebuilt_and_the_others_are_left_alone) {
  projection_env env("sqlite");
  const std::int64_t last = populate_live(env);
  const table_dump live = dump_all(env);
  exec(env, "DELETE FROM certificates");
  exec(env, "DELETE FROM audit_events WHERE position = 2");

  auto r =
      run_audit({"rebuild-projections", "--store", env.log.url(), "--projection", "certificates"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  BOOST_TEST(r.out == "certificates: " + std::to_string(last) + " events applied, 0 skipped, " +
                          "position " + std::to_string(last) + "\nrebuilt 1 projection up to " +
                          "position " + std::to_string(last) + "\n");
  BOOST_TEST((env.dump("certificates", 16) == live.at("certificates")));
  BOOST_TEST(env.dump("audit_events", 13).size() == live.at("audit_events").size() - 1);
}

BOOST_AUTO_TEST_CASE(a_fresh_store_gets_its_read_models_created) {
  projection_env env("sqlite");
  script_history(env);
  auto r = run_audit({"rebuild-projections", "--store", env.log.url()});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  BOOST_TEST(contains(r.out, "rebuilt 4 projections up to position 6\n"), r.out);
  BOOST_TEST(env.dump("certificates", 16).size() == 2u);
  BOOST_TEST(env.dump("audit_events", 13).size() == 6u);
}

BOOST_AUTO_TEST_SUITE_END()
