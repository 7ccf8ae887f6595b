// The anchored audit chain in the store layer: the event table refuses UPDATE and DELETE,
// snapshots keep their chain anchor, and signed checkpoints of the head (infra/store/checkpoint).
#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/store/checkpoint.hpp"
#include "infra/store/hash_chain.hpp"
#include "tests/infra/store/store_fixture.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using testing::store_fixture;

namespace {

const std::vector<std::string> sql_backends = {"sqlite", "postgres"};

void fill(store::event_store& s, int n, const std::string& stream = "thing-1") {
  for (int i = 0; i < n; ++i) {
    store::append_request r;
    r.stream_id = stream;
    r.expected = store::expected_version::any();
    r.events.push_back(testing::make_event("thing.happened", "{\"i\":" + std::to_string(i) + "}"));
    BOOST_REQUIRE(s.append(std::move(r)).ok());
  }
}

std::string key_pem(crypto::key_type t = crypto::key_type::ecdsa_p256) {
  auto k = crypto::generate_key(t);
  BOOST_REQUIRE(k.ok());
  return k->pem;
}

/// A temporary file path, removed with the object.
struct temp_path {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("certctl-cp-" + crypto::random_hex(6) + ".jsonl");
  ~temp_path() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(append_only_guard)

BOOST_DATA_TEST_CASE(update_and_delete_on_the_event_table_are_refused, bdata::make(sql_backends),
                     backend) {
  store_fixture f(backend);
  fill(f.store(), 5);
  const auto update_err = f.try_exec_sql("UPDATE events SET payload = '{}' WHERE position = 3");
  BOOST_TEST(update_err.find("append-only") != std::string::npos, update_err);
  const auto delete_err = f.try_exec_sql("DELETE FROM events WHERE position = 5");
  BOOST_TEST(delete_err.find("append-only") != std::string::npos, delete_err);
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(chain->events_checked == 5);
  BOOST_TEST(!chain->first_bad_position.has_value());
}

BOOST_AUTO_TEST_CASE(truncate_is_refused_on_postgres) {
  store_fixture f("postgres");
  fill(f.store(), 2);
  const auto err = f.try_exec_sql("TRUNCATE events");
  BOOST_TEST(err.find("append-only") != std::string::npos, err);
  BOOST_TEST(*f.store().head_position() == 2);
}

BOOST_DATA_TEST_CASE(the_documented_retention_procedure_deletes_and_leaves_the_guard_in_place,
                     bdata::make(sql_backends), backend) {
  store_fixture f(backend);
  fill(f.store(), 6);
  f.exec_sql_unguarded("DELETE FROM events WHERE position < 3");
  auto rest = f.store().read_all(1, 100);
  BOOST_REQUIRE(rest.ok());
  BOOST_REQUIRE(rest->size() == 4u);
  BOOST_TEST(rest->front().position == 3);
  // The triggers were re-created in the same transaction.
  const auto err = f.try_exec_sql("DELETE FROM events WHERE position = 3");
  BOOST_TEST(err.find("append-only") != std::string::npos, err);
}

BOOST_DATA_TEST_CASE(a_dropped_guard_is_re_created_when_the_store_opens, bdata::make(sql_backends),
                     backend) {
  store_fixture f(backend);
  fill(f.store(), 2);
  f.exec_sql(backend == "sqlite" ? "DROP TRIGGER events_no_delete"
                                 : "DROP TRIGGER events_append_only ON events");
  BOOST_REQUIRE(f.try_exec_sql("DELETE FROM events WHERE position = 2").empty());
  auto again = f.open_another();
  BOOST_REQUIRE(again);
  const auto err = f.try_exec_sql("DELETE FROM events WHERE position = 1");
  BOOST_TEST(err.find("append-only") != std::string::npos, err);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(snapshot_anchor_storage)

BOOST_DATA_TEST_CASE(a_snapshot_keeps_its_position_and_hash,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  BOOST_REQUIRE(f.store().save_snapshot({"team-a", 4, 1, "{\"x\":1}", 17, "ab12"}).ok());
  auto s = f.store().load_snapshot("team-a");
  BOOST_REQUIRE(s.ok() && s->has_value());
  BOOST_TEST((*s)->stream_version == 4);
  BOOST_TEST((*s)->position == 17);
  BOOST_TEST((*s)->hash == "ab12");
  // A later snapshot replaces both.
  BOOST_REQUIRE(f.store().save_snapshot({"team-a", 6, 1, "{\"x\":2}", 30, "cd34"}).ok());
  s = f.store().load_snapshot("team-a");
  BOOST_REQUIRE(s.ok() && s->has_value());
  BOOST_TEST((*s)->position == 30);
  BOOST_TEST((*s)->hash == "cd34");
}

BOOST_DATA_TEST_CASE(an_append_reports_the_hash_of_its_last_event,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  store::append_request r;
  r.stream_id = "thing-1";
  r.events = {testing::make_event("a"), testing::make_event("b")};
  auto done = f.store().append(std::move(r));
  BOOST_REQUIRE(done.ok());
  auto last = f.store().read_all(done->last_position, 1);
  BOOST_REQUIRE(last.ok() && last->size() == 1u);
  BOOST_TEST(done->last_hash == last->front().hash);
}

BOOST_AUTO_TEST_CASE(a_sqlite_log_from_before_anchors_gains_the_columns_on_open) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("certctl-legacy-" + crypto::random_hex(6));
  std::filesystem::create_directories(dir);
  const std::string url = "sqlite://" + (dir / "events.db").string();
  {
    auto s = store::open_event_store(url);
    BOOST_REQUIRE(s.ok());
  }
  {
    // The snapshots table as earlier versions created it, with one row.
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open((dir / "events.db").c_str(), &db) == SQLITE_OK);
    const int rc = sqlite3_exec(
        db,
        "DROP TABLE snapshots; CREATE TABLE snapshots (stream_id TEXT PRIMARY KEY, "
        "stream_version INTEGER NOT NULL, schema_version INTEGER NOT NULL, state TEXT NOT "
        "NULL); INSERT INTO snapshots VALUES ('team-a', 3, 1, '{}');",
        nullptr, nullptr, nullptr);
    sqlite3_close(db);
    BOOST_REQUIRE(rc == SQLITE_OK);
  }
  auto s = store::open_event_store(url);
  BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
  auto old = (*s)->load_snapshot("team-a");
  BOOST_REQUIRE(old.ok() && old->has_value());
  BOOST_TEST((*old)->position == 0);  // unanchored: recovery will ignore it
  BOOST_TEST((*old)->hash.empty());
  BOOST_REQUIRE((*s)->save_snapshot({"team-a", 4, 1, "{}", 9, "ff"}).ok());
  auto fresh = (*s)->load_snapshot("team-a");
  BOOST_REQUIRE(fresh.ok() && fresh->has_value());
  BOOST_TEST((*fresh)->position == 9);
  s->reset();
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(checkpoints)

BOOST_DATA_TEST_CASE(a_checkpoint_signs_the_head_and_is_appended_to_the_system_stream,
                     bdata::make(testing::conformance_backends()), backend) {
  store_fixture f(backend);
  fill(f.store(), 7);
  const auto pem = key_pem();
  auto taken = store::take_checkpoint(f.store(), pem, 1790000000000000);
  BOOST_REQUIRE_MESSAGE(taken.ok(), (taken.ok() ? "" : taken.error().message));
  BOOST_REQUIRE(taken->taken.has_value());
  const auto& cp = *taken->taken;
  auto seven = f.store().read_all(7, 1);
  BOOST_REQUIRE(seven.ok() && seven->size() == 1u);
  BOOST_TEST(cp.position == 7);
  BOOST_TEST(cp.hash == seven->front().hash);
  BOOST_TEST(cp.taken_at == 1790000000000000);
  BOOST_TEST(taken->event_position == 8);
  BOOST_TEST(store::check_signature(cp, {}) == "");
  auto pub = crypto::parse_private_key(pem);
  BOOST_REQUIRE(pub.ok());
  BOOST_TEST(cp.key_id == pub->public_key.sha256_hex);

  auto recorded = store::read_checkpoints(f.store());
  BOOST_REQUIRE(recorded.ok());
  BOOST_REQUIRE(recorded->size() == 1u);
  BOOST_TEST(store::to_json(recorded->front()) == store::to_json(cp));
  auto event = f.store().read_all(8, 1);
  BOOST_REQUIRE(event.ok() && event->size() == 1u);
  BOOST_TEST(event->front().stream_id == store::checkpoint_stream);
  BOOST_TEST(event->front().type == store::checkpoint_event_type);
  // The checkpoint event is chained like every other.
  auto chain = store::verify_chain(f.store());
  BOOST_REQUIRE(chain.ok());
  BOOST_TEST(chain->events_checked == 8);
}

BOOST_AUTO_TEST_CASE(an_idle_log_gets_no_checkpoint_of_a_checkpoint) {
  store_fixture f("memory");
  const auto pem = key_pem();
  auto empty = store::take_checkpoint(f.store(), pem, 1);
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(!empty->taken.has_value());
  fill(f.store(), 3);
  BOOST_REQUIRE(store::take_checkpoint(f.store(), pem, 2)->taken.has_value());
  auto idle = store::take_checkpoint(f.store(), pem, 3);
  BOOST_REQUIRE(idle.ok());
  BOOST_TEST(!idle->taken.has_value());
  BOOST_TEST(*f.store().head_position() == 4);
  fill(f.store(), 1);
  auto next = store::take_checkpoint(f.store(), pem, 4);
  BOOST_REQUIRE(next.ok() && next->taken.has_value());
  BOOST_TEST(next->taken->position == 5);
}

BOOST_AUTO_TEST_CASE(ed25519_and_p256_signatures_verify_and_any_changed_field_fails) {
  for (auto type : {crypto::key_type::ecdsa_p256, crypto::key_type::ed25519}) {
    const auto pem = key_pem(type);
    auto cp = store::sign_checkpoint(12, std::string(64, 'a'), 1790000000000000, pem);
    BOOST_REQUIRE(cp.ok());
    BOOST_TEST(store::check_signature(*cp, {cp->public_key_pem}) == "");
    auto moved = *cp;
    moved.position = 11;
    BOOST_TEST(store::check_signature(moved, {cp->public_key_pem}) != "");
    auto rehashed = *cp;
    rehashed.hash = std::string(64, 'b');
    BOOST_TEST(store::check_signature(rehashed, {}) != "");
    auto retimed = *cp;
    retimed.taken_at += 1;
    BOOST_TEST(store::check_signature(retimed, {}) != "");
  }
}

BOOST_AUTO_TEST_CASE(cluster_nodes_sign_with_their_own_keys_and_name_themselves) {
  // Each node's key store holds its own checkpoint key; a verifier pinned to every node's
  // public key accepts each node's checkpoints, and the node id is signed (v2).
  const auto key_a = key_pem(), key_b = key_pem();
  auto from_a = store::sign_checkpoint(7, std::string(64, 'd'), 5, key_a, "node-a");
  auto from_b = store::sign_checkpoint(9, std::string(64, 'e'), 6, key_b, "node-b");
  BOOST_REQUIRE(from_a.ok() && from_b.ok());
  const std::vector<std::string> nodes = {from_a->public_key_pem, from_b->public_key_pem};
  BOOST_TEST(store::check_signature(*from_a, nodes) == "");
  BOOST_TEST(store::check_signature(*from_b, nodes) == "");
  BOOST_TEST(store::check_signature(*from_b, {from_a->public_key_pem}) != "");
  // The node id round-trips through the event payload and is covered by the signature.
  auto parsed = store::parse_checkpoint(store::to_json(*from_a));
  BOOST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->node_id == "node-a");
  BOOST_TEST(store::check_signature(*parsed, nodes) == "");
  auto renamed = *from_a;
  renamed.node_id = "node-b";
  BOOST_TEST(store::check_signature(renamed, nodes) != "");
  auto stripped = *from_a;
  stripped.node_id.clear();
  BOOST_TEST(store::check_signature(stripped, nodes) != "");
  // A single node's checkpoint (no node id) keeps format v1 and its signature.
  auto single = store::sign_checkpoint(7, std::string(64, 'd'), 5, key_a);
  BOOST_REQUIRE(single.ok());
  BOOST_TEST(store::to_json(*single).find("node_id") == std::string::npos);
  BOOST_TEST(store::signing_input(*single).rfind("certctl-audit-checkpoint/v1\n", 0) == 0);
  BOOST_TEST(store::check_signature(*single, nodes) == "");
}

BOOST_AUTO_TEST_CASE(a_checkpoint_signed_by_another_key_fails_against_the_trusted_key) {
  const auto trusted = key_pem();
  const auto other = key_pem();
  auto trusted_cp = store::sign_checkpoint(3, std::string(64, 'c'), 1, trusted);
  auto forged = store::sign_checkpoint(3, std::string(64, 'c'), 1, other);
  BOOST_REQUIRE(trusted_cp.ok() && forged.ok());
  // Self-consistent: it verifies under the key it carries...
  BOOST_TEST(store::check_signature(*forged, {}) == "");
  // ...but not under the key an auditor pinned.
  const auto why = store::check_signature(*forged, {trusted_cp->public_key_pem});
  BOOST_TEST(why.find("trusted") != std::string::npos, why);
  // A carried key swapped under an unchanged key_id is caught without a pinned key too.
  auto swapped = *forged;
  swapped.key_id = trusted_cp->key_id;
  BOOST_TEST(store::check_signature(swapped, {}) != "");
}

BOOST_AUTO_TEST_CASE(the_file_sink_appends_one_json_line_per_checkpoint_with_mode_0600) {
  store_fixture f("memory");
  temp_path file;
  const auto pem = key_pem();
  fill(f.store(), 2);
  BOOST_REQUIRE(store::take_checkpoint(f.store(), pem, 10, file.path.string())->taken);
  fill(f.store(), 2);
  BOOST_REQUIRE(store::take_checkpoint(f.store(), pem, 20, file.path.string())->taken);
  auto lines = store::read_checkpoint_file(file.path.string());
  BOOST_REQUIRE(lines.ok());
  BOOST_REQUIRE(lines->size() == 2u);
  BOOST_TEST((*lines)[0].position == 2);
  BOOST_TEST((*lines)[1].position == 5);
  BOOST_TEST(store::check_signature((*lines)[1], {}) == "");
  struct stat st {};
  BOOST_REQUIRE(::stat(file.path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  // A damaged line is reported with its number, never skipped.
  {
    std::ofstream out(file.path, std::ios::app);
    out << "{\"position\":\"x\"}\n";
  }
  auto bad = store::read_checkpoint_file(file.path.string());
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().find("line 3") != std::string::npos, bad.error());
}

BOOST_AUTO_TEST_SUITE_END()
