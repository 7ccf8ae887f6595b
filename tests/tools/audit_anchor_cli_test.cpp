// certctl-audit verify against signed checkpoints, an expected head and a start checkpoint:
// the built binary, as an auditor runs it, against logs this test fills and tampers with.
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "infra/crypto/detached_signature.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/store/checkpoint.hpp"
#include "tests/infra/store/store_fixture.hpp"
#include "tests/support/subprocess.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using testing::store_fixture;

namespace {

const std::string audit_binary = std::string(CERTCTL_BINARY_DIR) + "/tools/audit/certctl-audit";
const std::vector<std::string> sql_backends = {"sqlite", "postgres"};

testing::process_result audit(const std::vector<std::string>& args) {
  return testing::run_shell(testing::command_line(audit_binary, args), true);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

void fill(store::event_store& s, int n, const std::string& tag = "a") {
  for (int i = 0; i < n; ++i) {
    store::append_request r;
    r.stream_id = "certificate-" + std::to_string(i % 3);
    r.expected = store::expected_version::any();
    r.events.push_back(testing::make_event(
        "certificate.requested", "{\"tag\":\"" + tag + "\",\"i\":" + std::to_string(i) + "}"));
    BOOST_REQUIRE(s.append(std::move(r)).ok());
  }
}

/// A signing key, its public half in a PEM file, and a checkpoint file, in a temporary dir.
struct anchor_env {
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("certctl-anchor-" + crypto::random_hex(6));
  std::string key_pem;
  std::string public_key_file = (dir / "checkpoint.pub.pem").string();
  std::string checkpoint_file = (dir / "checkpoints.jsonl").string();

  anchor_env() {
    std::filesystem::create_directories(dir);
    auto k = crypto::generate_key();
    BOOST_REQUIRE(k.ok());
    key_pem = k->pem;
    auto pub = crypto::public_key_pem_of(key_pem);
    BOOST_REQUIRE(pub.ok());
    std::ofstream(public_key_file) << *pub;
  }
  ~anchor_env() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  /// Takes a checkpoint of `s`'s head, into the log and the file.
  store::checkpoint take(store::event_store& s) {
    auto t = store::take_checkpoint(s, key_pem, 1790000000000000, checkpoint_file);
    BOOST_REQUIRE_MESSAGE(t.ok(), (t.ok() ? "" : t.error().message));
    BOOST_REQUIRE(t->taken.has_value());
    return *t->taken;
  }
};

/// Appends copies of `from`'s events `first`..`last` to `to` (same ids and contents, so the
/// same chain hashes while `to` has the same history before them).
void copy_events(store::event_store& from, store::event_store& to, std::int64_t first,
                 std::int64_t last) {
  auto evs = from.read_all(first, static_cast<size_t>(last - first + 1));
  BOOST_REQUIRE(evs.ok());
  for (const auto& e : *evs) {
    store::append_request r;
    r.stream_id = e.stream_id;
    r.expected = store::expected_version::any();
    events::proposed_event p;
    p.event_id = e.event_id;
    p.type = e.type;
    p.schema_version = e.schema_version;
    p.occurred_at = e.occurred_at;
    p.principal = e.principal;
    p.source_address = e.source_address;
    p.correlation_id = e.correlation_id;
    p.causation_id = e.causation_id;
    p.payload = e.payload;
    r.events.push_back(std::move(p));
    BOOST_REQUIRE(to.append(std::move(r)).ok());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_verify_anchors)

BOOST_DATA_TEST_CASE(a_log_with_checkpoints_verifies_and_names_the_latest,
                     bdata::make(sql_backends), backend) {
  store_fixture f(backend);
  anchor_env env;
  fill(f.store(), 10);
  env.take(f.store());  // covers 10, lands at 11
  fill(f.store(), 5);   // 12..16
  env.take(f.store());  // covers 16, lands at 17
  auto r = audit({"verify", "--store", f.url(), "--checkpoint-file", env.checkpoint_file});
  BOOST_TEST(r.exit_code == 0, r.out + r.err);
  BOOST_TEST(contains(r.out, "verified 17 events, head 17 "), r.out);
  // Two in the log, two in the file: the same two checkpoints, each compared.
  BOOST_TEST(contains(r.out, "4 checkpoint(s) hold; the latest covers position 16"), r.out);
  BOOST_TEST(contains(r.out, "pass --public-key"), r.out);

  auto pinned = audit({"verify", "--store", f.url(), "--public-key", env.public_key_file});
  BOOST_TEST(pinned.exit_code == 0, pinned.out + pinned.err);
  BOOST_TEST(!contains(pinned.out, "pass --public-key"), pinned.out);
}

BOOST_AUTO_TEST_CASE(checkpoints_signed_by_another_key_fail_against_the_pinned_key) {
  store_fixture f("sqlite");
  anchor_env env, other;
  fill(f.store(), 4);
  other.take(f.store());
  auto r = audit({"verify", "--store", f.url(), "--public-key", env.public_key_file});
  BOOST_TEST(r.exit_code == 1, r.out + r.err);
  BOOST_TEST(contains(r.out, "chain broken: the checkpoint for position 4 (log position 5"), r.out);
  BOOST_TEST(contains(r.out, "is not validly signed"), r.out);
}

BOOST_DATA_TEST_CASE(a_deleted_tail_with_its_checkpoints_fails_against_the_checkpoint_file,
                     bdata::make(sql_backends), backend) {
  store_fixture f(backend);
  anchor_env env;
  fill(f.store(), 10);
  env.take(f.store());  // covers 10, event 11
  fill(f.store(), 5);   // 12..16
  env.take(f.store());  // covers 16, event 17
  // The tamperer removes the last events and the checkpoint among them: the log is a valid
  // chain again, up to 11.
  f.exec_sql_unguarded("DELETE FROM events WHERE position > 11");
  auto r = audit({"verify", "--store", f.url(), "--checkpoint-file", env.checkpoint_file});
  BOOST_TEST(r.exit_code == 1, r.out + r.err);
  BOOST_TEST(contains(r.out,
                      "vouches for position 16, but the log ends at position 11: the tail "
                      "after it is missing (events 12..16 at least were deleted)"),
             r.out);
}

BOOST_AUTO_TEST_CASE(a_rewritten_tail_is_caught_by_the_checkpoint_the_rewriter_copied) {
  // Log A: 5 events, checkpoint (event 6), 4 events (7..10), checkpoint of 10 (event 11).
  store_fixture a("sqlite"), b("sqlite");
  anchor_env env;
  fill(a.store(), 5);
  env.take(a.store());
  fill(a.store(), 4, "original");
  env.take(a.store());
  // Log B: the same first six events, a different 7..10 (a complete, consistent chain), and
  // A's checkpoint event copied over as if it belonged.
  copy_events(a.store(), b.store(), 1, 6);
  fill(b.store(), 4, "rewritten");
  copy_events(a.store(), b.store(), 11, 11);
  auto r = audit({"verify", "--store", b.url(), "--public-key", env.public_key_file});
  BOOST_TEST(r.exit_code == 1, r.out + r.err);
  BOOST_TEST(contains(r.out, "the checkpoint for position 10 (log position 11"), r.out);
  BOOST_TEST(contains(r.out, "the log was rewritten after position 5 and at or before position 10"),
             r.out);
  // The original verifies with the same key.
  auto ok = audit({"verify", "--store", a.url(), "--public-key", env.public_key_file});
  BOOST_TEST(ok.exit_code == 0, ok.out + ok.err);
}

BOOST_AUTO_TEST_CASE(a_checkpoint_line_with_a_changed_hash_fails_its_signature) {
  store_fixture f("sqlite");
  anchor_env env;
  fill(f.store(), 3);
  auto cp = env.take(f.store());
  cp.hash = std::string(64, 'e');
  const std::string forged = (env.dir / "forged.jsonl").string();
  std::ofstream(forged) << store::to_json(cp) << "\n";
  auto r = audit({"verify", "--store", f.url(), "--checkpoint-file", forged});
  BOOST_TEST(r.exit_code == 1, r.out + r.err);
  BOOST_TEST(contains(r.out, "forged.jsonl entry 1"), r.out);
  BOOST_TEST(contains(r.out, "is not validly signed"), r.out);
}

BOOST_DATA_TEST_CASE(from_checkpoint_starts_after_retention_removed_older_events,
                     bdata::make(sql_backends), backend) {
  store_fixture f(backend);
  anchor_env env;
  fill(f.store(), 8);
  env.take(f.store());  // covers 8, event 9
  fill(f.store(), 3);   // 10..12
  f.exec_sql_unguarded("DELETE FROM events WHERE position < 8");
  auto whole = audit({"verify", "--store", f.url()});
  BOOST_TEST(whole.exit_code == 1, whole.out + whole.err);
  BOOST_TEST(contains(whole.out, "position 1 is missing"), whole.out);

  auto r = audit({"verify", "--store", f.url(), "--from-checkpoint", "8", "--public-key",
                  env.public_key_file});
  BOOST_TEST(r.exit_code == 0, r.out + r.err);
  BOOST_TEST(contains(r.out,
                      "verified 4 events from position 9 (after the checkpoint for 8), "
                      "head 12 "),
             r.out);
  BOOST_TEST(contains(r.out, "1 checkpoint(s) hold; the latest covers position 8"), r.out);

  auto none = audit({"verify", "--store", f.url(), "--from-checkpoint", "5"});
  BOOST_TEST(none.exit_code == 2, none.out + none.err);
  BOOST_TEST(contains(none.err, "no checkpoint for position 5"), none.err);
}

BOOST_AUTO_TEST_CASE(from_checkpoint_refuses_a_start_event_that_was_rewritten) {
  store_fixture f("sqlite");
  anchor_env env;
  fill(f.store(), 6);
  env.take(f.store());
  f.exec_sql_unguarded("UPDATE events SET payload = '{\"i\":99}' WHERE position = 6");
  auto r = audit({"verify", "--store", f.url(), "--from-checkpoint", "6", "--checkpoint-file",
                  env.checkpoint_file});
  BOOST_TEST(r.exit_code == 1, r.out + r.err);
  BOOST_TEST(contains(r.out, "position 6 does not match the checkpoint for position 6"), r.out);
}

BOOST_AUTO_TEST_CASE(expect_head_holds_or_names_a_rewrite_or_a_missing_tail) {
  store_fixture f("sqlite");
  fill(f.store(), 6);
  auto six = f.store().read_all(6, 1);
  BOOST_REQUIRE(six.ok() && six->size() == 1u);
  const std::string h = six->front().hash;
  auto ok = audit({"verify", "--store", f.url(), "--expect-head", "6:" + h});
  BOOST_TEST(ok.exit_code == 0, ok.out + ok.err);
  BOOST_TEST(contains(ok.out, "expected head 6 holds"), ok.out);

  auto rewritten =
      audit({"verify", "--store", f.url(), "--expect-head", "6:" + std::string(64, 'a')});
  BOOST_TEST(rewritten.exit_code == 1, rewritten.out + rewritten.err);
  BOOST_TEST(contains(rewritten.out, "the expected head 6 does not match the log"), rewritten.out);

  auto missing = audit({"verify", "--store", f.url(), "--expect-head", "9:" + h});
  BOOST_TEST(missing.exit_code == 1, missing.out + missing.err);
  BOOST_TEST(contains(missing.out, "but the log ends at position 6"), missing.out);

  for (const auto& bad : std::vector<std::string>{"6", "x:" + h, "0:" + h, "6:ABC"}) {
    auto r = audit({"verify", "--store", f.url(), "--expect-head", bad});
    BOOST_TEST(r.exit_code == 2, bad);
    BOOST_TEST(contains(r.err, "flag --expect-head"), r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
