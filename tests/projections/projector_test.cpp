// The projector: exactly-once application, checkpoints atomic with rows, restart, rebuild,
// read-your-writes waits and the skip rule, on every backend.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "projections/audit_projection.hpp"
#include "projections/checkpoint_table.hpp"
#include "projections/projector.hpp"
#include "projections/standard_projections.hpp"
#include "tests/projections/test_projections.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::projections;
using namespace std::chrono_literals;
using testing::counting_projection;
using testing::projection_env;

namespace {

projector_options quiet(size_t batch = 500) {
  projector_options o;
  o.batch_size = batch;
  o.log_to_stderr = false;
  return o;
}

/// n of each stream in the counting table, as "stream=n" lines.
std::string counts(projection_env& env, const std::string& table = "stream_counts") {
  std::string out;
  for (const auto& r : env.dump(table, 1)) out += *r.text(0) + "=" + *r.text(1) + "\n";
  return out;
}

std::int64_t stored_checkpoint(projection_env& env, const std::string& name) {
  auto r = env.db->query("SELECT position FROM projection_checkpoints WHERE name = ?", {name});
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE(r->size() == 1u);
  return *r->front().int64(0);
}

void append_mix(projection_env& env, int n) {
  for (int i = 0; i < n; ++i)
    env.append("certificate-mc-" + std::to_string(i % 3),
               i % 2 ? "certificate.renewed" : "certificate.issued",
               "{\"i\":" + std::to_string(i) + "}", i % 4 ? "apikey-ops" : "system:renewal",
               1790000000000000 + i * 1000000);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(projector_suite)

BOOST_DATA_TEST_CASE(a_started_projector_follows_appends_and_waits_for_positions,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  append_mix(env, 5);  // history before start
  auto counter = std::make_shared<counting_projection>();
  projector p(env.log.store(), env.db, quiet(4));
  BOOST_REQUIRE(p.add(counter).ok());
  BOOST_REQUIRE(p.start().ok());
  BOOST_TEST(p.wait_for_position(5, 10s));
  // Nothing at position 6 yet: the wait times out instead of hanging.
  const auto before = std::chrono::steady_clock::now();
  BOOST_TEST(!p.wait_for_position(6, 100ms));
  BOOST_TEST((std::chrono::steady_clock::now() - before >= 100ms));
  std::int64_t last = 0;
  for (int i = 0; i < 25; ++i) last = env.append("job-" + std::to_string(i % 2));
  BOOST_TEST(last == 30);
  BOOST_TEST(p.wait_for_position(last, 10s));
  BOOST_TEST(p.projected_position() == 30);
  BOOST_TEST(*p.lag() == 0);
  BOOST_TEST(counts(env) ==
             "certificate-mc-0=2\ncertificate-mc-1=2\ncertificate-mc-2=1\n"
             "job-0=13\njob-1=12\n");
  BOOST_TEST(counter->applied.load() == 30);
  BOOST_TEST(stored_checkpoint(env, "stream_counts") == 30);
  p.stop();
  p.stop();  // idempotent
}

BOOST_DATA_TEST_CASE(lag_is_head_minus_projected, bdata::make(testing::conformance_backends()),
                     backend) {
  projection_env env(backend);
  projector p(env.log.store(), env.db, quiet());
  BOOST_REQUIRE(p.add(std::make_shared<counting_projection>()).ok());
  append_mix(env, 7);
  BOOST_TEST(*p.lag() == 7);
  BOOST_TEST(*p.catch_up() == 7);
  BOOST_TEST(*p.lag() == 0);
}

BOOST_DATA_TEST_CASE(a_transient_failure_mid_batch_leaves_neither_rows_nor_checkpoint,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  append_mix(env, 10);
  auto counter = std::make_shared<counting_projection>();
  counter->transient_at = 6;  // writes its row, then fails: as if the database went away
  projector p(env.log.store(), env.db, quiet());
  BOOST_REQUIRE(p.add(counter).ok());
  auto failed = p.catch_up();
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST(failed.error().code == db_errc::unavailable);
  // Events 1..5 were applied inside the same transaction: all of it is gone.
  BOOST_TEST(env.dump("stream_counts", 1).empty());
  BOOST_TEST(stored_checkpoint(env, "stream_counts") == 0);
  BOOST_TEST(p.projected_position() == 0);
  BOOST_TEST(p.failed_batches() == 1u);
  BOOST_TEST(p.skipped_events() == 0u);

  counter->transient_at = 0;
  BOOST_TEST(*p.catch_up() == 10);
  BOOST_TEST(counts(env) == "certificate-mc-0=4\ncertificate-mc-1=3\ncertificate-mc-2=3\n");
}

BOOST_DATA_TEST_CASE(a_bad_event_is_skipped_recorded_and_its_writes_undone,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  env.append("s-a");
  env.append("s-b");
  env.append("s-a");
  env.append("s-poisoned", "thing.broken", "{\"poison\":true}");
  env.append("s-b");
  auto counter = std::make_shared<counting_projection>();
  projector p(env.log.store(), env.db, quiet());
  BOOST_REQUIRE(p.add(counter).ok());
  BOOST_TEST(*p.catch_up() == 5);
  // The poisoned event's row (written before it failed) is rolled back; its neighbours in
  // the same batch are kept, and the checkpoint moves past it.
  BOOST_TEST(counts(env) == "s-a=2\ns-b=2\n");
  BOOST_TEST(stored_checkpoint(env, "stream_counts") == 5);
  BOOST_TEST(p.skipped_events() == 1u);
  auto skip = p.last_skip();
  BOOST_REQUIRE(skip.has_value());
  BOOST_TEST(skip->position == 4);
  BOOST_TEST(skip->event_type == "thing.broken");
  BOOST_TEST(skip->projection == "stream_counts");
  auto st = p.status();
  BOOST_REQUIRE(st.size() == 1u);
  BOOST_TEST(st[0].skipped == 1u);
  BOOST_TEST(st[0].last_error.find("position 4") != std::string::npos);
  auto recorded = env.db->query(
      "SELECT name, position, event_type FROM projection_skipped_events ORDER BY position");
  BOOST_REQUIRE(recorded.ok());
  BOOST_REQUIRE(recorded->size() == 1u);
  BOOST_TEST(*recorded->front().int64(1) == 4);
  BOOST_TEST(*recorded->front().text(2) == "thing.broken");
  // Later events still flow.
  env.append("s-a");
  BOOST_TEST(*p.catch_up() == 6);
  BOOST_TEST(counts(env) == "s-a=3\ns-b=2\n");
}

BOOST_DATA_TEST_CASE(a_restart_resumes_from_the_checkpoint_without_reapplying,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  append_mix(env, 12);
  {
    projector first(env.log.store(), env.db, quiet(5));
    BOOST_REQUIRE(first.add(std::make_shared<counting_projection>()).ok());
    BOOST_REQUIRE(first.start().ok());
    BOOST_REQUIRE(first.wait_for_position(12, 10s));
  }  // the process "stops"
  append_mix(env, 6);
  auto again = std::make_shared<counting_projection>();
  projector second(env.log.store(), env.db, quiet(5));
  BOOST_REQUIRE(second.add(again).ok());
  BOOST_REQUIRE(second.start().ok());
  BOOST_REQUIRE(second.wait_for_position(18, 10s));
  BOOST_TEST(again->applied.load() == 6);
  BOOST_TEST(again->creates.load() == 0);
  BOOST_TEST(counts(env) == "certificate-mc-0=6\ncertificate-mc-1=6\ncertificate-mc-2=6\n");
}

BOOST_DATA_TEST_CASE(the_standard_projections_are_added_once_and_follow_the_log,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  projector p(env.log.store(), env.db, quiet(7));
  BOOST_REQUIRE(add_standard_projections(p).ok());
  BOOST_TEST(!add_standard_projections(p).ok());  // each name once
  std::vector<std::string> names;
  for (const auto& s : p.status()) names.push_back(s.name);
  BOOST_TEST(
      names == (std::vector<std::string>{"audit", "certificates", "jobs", "resources", "revocation",
                                         "intermediates", "policy_violations", "approvals",
                                         "discovery", "health_checks", "notifications"}),
      boost::test_tools::per_element());
  append_mix(env, 5);
  BOOST_REQUIRE(*p.catch_up() == 5);
  for (const auto& s : p.status()) BOOST_TEST(s.position == 5, s.name);
}

BOOST_DATA_TEST_CASE(a_rebuilt_projection_equals_the_live_one,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  projector p(env.log.store(), env.db, quiet(7));
  auto counter = std::make_shared<counting_projection>();
  BOOST_REQUIRE(p.add(counter).ok());
  BOOST_REQUIRE(p.add(std::make_shared<audit_projection>()).ok());
  BOOST_REQUIRE(p.start().ok());
  append_mix(env, 40);
  BOOST_REQUIRE(p.wait_for_position(40, 10s));
  const auto live_counts = env.dump("stream_counts", 3);
  const auto live_audit = env.dump("audit_events", 13);
  BOOST_TEST(live_audit.size() == 40u);

  BOOST_REQUIRE(p.rebuild().ok());
  BOOST_TEST(counter->creates.load() == 2);  // the tables really were dropped and recreated
  BOOST_REQUIRE(p.wait_for_position(40, 10s));
  BOOST_TEST((env.dump("stream_counts", 3) == live_counts));
  BOOST_TEST((env.dump("audit_events", 13) == live_audit));

  // One projection alone, while the other stays live.
  BOOST_REQUIRE(p.rebuild("audit").ok());
  env.append("certificate-mc-9");
  BOOST_REQUIRE(p.wait_for_position(41, 10s));
  BOOST_TEST(env.dump("audit_events", 13).size() == 41u);
  auto unknown = p.rebuild("nope");
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == db_errc::invalid_argument);
}

BOOST_DATA_TEST_CASE(a_schema_version_bump_rebuilds_from_position_one,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  append_mix(env, 9);
  {
    projector p(env.log.store(), env.db, quiet());
    BOOST_REQUIRE(p.add(std::make_shared<counting_projection>("stream_counts", 1)).ok());
    BOOST_REQUIRE(*p.catch_up() == 9);
  }
  // Someone edits the table behind the projector's back; the rebuild must erase it.
  BOOST_REQUIRE(env.db->exec("UPDATE stream_counts SET n = 100").ok());
  auto v2 = std::make_shared<counting_projection>("stream_counts", 2);
  projector p(env.log.store(), env.db, quiet());
  BOOST_REQUIRE(p.add(v2).ok());
  BOOST_TEST(*p.catch_up() == 9);
  BOOST_TEST(v2->creates.load() == 1);
  BOOST_TEST(v2->applied.load() == 9);
  BOOST_TEST(counts(env) == "certificate-mc-0=3\ncertificate-mc-1=3\ncertificate-mc-2=3\n");
  auto cp = env.db->query("SELECT schema_version FROM projection_checkpoints WHERE name = ?",
                          {std::string("stream_counts")});
  BOOST_REQUIRE(cp.ok());
  BOOST_TEST(*cp->front().int64(0) == 2);
}

BOOST_DATA_TEST_CASE(projections_added_after_start_are_refused,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  projector p(env.log.store(), env.db, quiet());
  BOOST_REQUIRE(p.add(std::make_shared<counting_projection>()).ok());
  BOOST_TEST(!p.add(std::make_shared<counting_projection>()).ok());  // duplicate name
  BOOST_REQUIRE(p.catch_up().ok());
  BOOST_TEST(!p.add(std::make_shared<counting_projection>("other")).ok());
}

BOOST_AUTO_TEST_SUITE_END()
