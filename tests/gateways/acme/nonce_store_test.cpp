// ACME nonces (RFC 8555 §6.5) in both forms: a node's memory, and the cluster's stateless
// authenticated nonces with the used-nonce table in a shared database (SQLite here and a real
// PostgreSQL through CERTCTL_TEST_POSTGRES_URL, the backend clusters use). Two nonce_stores
// over one table stand for two nodes.
#define BOOST_TEST_MODULE gateways_acme_nonces
#include <atomic>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "gateways/acme/nonce_store.hpp"
#include "gateways/acme/shared_nonce_log.hpp"
#include "infra/crypto/jwk.hpp"
#include "tests/infra/sql/sql_fixture.hpp"

using namespace certctl;
using namespace certctl::gateways::acme;
namespace bdata = boost::unit_test::data;
using wall = std::chrono::system_clock;

namespace {

const std::string secret(32, 's');

/// A used-nonce record in memory, for the checks that do not need a database.
nonce_recorder memory_record(std::shared_ptr<std::set<std::string>> seen) {
  return [seen](const std::string& n, std::int64_t) -> std::optional<bool> {
    return seen->insert(n).second;
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(local_nonces_are_single_use) {
  nonce_store s(std::chrono::seconds(60), 10);
  const auto n = s.issue();
  BOOST_TEST(s.consume(n));
  BOOST_TEST(!s.consume(n));
  BOOST_TEST(!s.consume("made-up"));
}

BOOST_AUTO_TEST_CASE(a_shared_nonce_is_checked_by_another_node_once) {
  auto seen = std::make_shared<std::set<std::string>>();
  nonce_store a(std::chrono::seconds(60), secret, memory_record(seen));
  nonce_store b(std::chrono::seconds(60), secret, memory_record(seen));
  const auto n = a.issue();
  BOOST_TEST(n != a.issue());
  BOOST_TEST(b.consume(n));
  BOOST_TEST(!a.consume(n));
  BOOST_TEST(!b.consume(n));
}

BOOST_AUTO_TEST_CASE(forged_and_foreign_nonces_are_refused) {
  auto seen = std::make_shared<std::set<std::string>>();
  nonce_store a(std::chrono::seconds(60), secret, memory_record(seen));
  nonce_store other_cluster(std::chrono::seconds(60), std::string(32, 'x'), memory_record(seen));
  BOOST_TEST(!a.consume(other_cluster.issue()));
  // One flipped bit anywhere (issued-at, random part or MAC) breaks the MAC.
  const auto raw = crypto::base64url_decode(a.issue()).value();
  for (std::size_t i : {std::size_t{3}, std::size_t{12}, raw.size() - 1}) {
    std::string bad = raw;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    BOOST_TEST(!a.consume(crypto::base64url_encode(bad)), "flipped byte " << i);
  }
  BOOST_TEST(!a.consume("AAAA"));
  BOOST_TEST(!a.consume(""));
  BOOST_TEST(seen->empty());  // nothing unauthenticated reached the record
}

BOOST_AUTO_TEST_CASE(shared_nonces_expire_and_may_not_come_from_the_future) {
  auto seen = std::make_shared<std::set<std::string>>();
  wall::time_point now = wall::now();
  auto clock = [&now] { return now; };
  nonce_store s(std::chrono::seconds(60), secret, memory_record(seen), clock);
  const auto n = s.issue();
  now += std::chrono::seconds(61);
  BOOST_TEST(!s.consume(n));
  // A node whose clock runs far ahead issues nonces the others refuse.
  wall::time_point ahead = now + std::chrono::minutes(5);
  nonce_store fast(std::chrono::seconds(60), secret, memory_record(seen),
                   [&ahead] { return ahead; });
  BOOST_TEST(!s.consume(fast.issue()));
  BOOST_TEST(s.consume(s.issue()));
}

BOOST_AUTO_TEST_CASE(a_failed_record_refuses_the_nonce) {
  nonce_store s(
      std::chrono::seconds(60), secret,
      [](const std::string&, std::int64_t) -> std::optional<bool> { return std::nullopt; });
  BOOST_TEST(!s.consume(s.issue()));
}

BOOST_DATA_TEST_CASE(the_shared_table_accepts_each_nonce_once_across_nodes,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  testing::db_env env(backend);
  auto log_a = make_shared_nonce_log(*env.db);
  auto log_b = make_shared_nonce_log(*env.db);  // a second node: the table exists already
  BOOST_REQUIRE_MESSAGE(log_a, (log_a ? "" : log_a.error()));
  BOOST_REQUIRE(log_b);
  nonce_store a(std::chrono::seconds(60), secret, *log_a);
  nonce_store b(std::chrono::seconds(60), secret, *log_b);
  const auto n = a.issue();
  BOOST_TEST(b.consume(n));
  BOOST_TEST(!a.consume(n));
  BOOST_TEST(!b.consume(n));

  // Many threads on both "nodes" race for the same nonces: each is accepted exactly once.
  std::vector<std::string> nonces;
  for (int i = 0; i < 20; ++i) nonces.push_back(a.issue());
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      nonce_store& mine = t % 2 == 0 ? a : b;
      for (const auto& x : nonces)
        if (mine.consume(x)) ++accepted;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(accepted.load() == 20);

  // Rows carry their expiry: past it they are swept, and the nonce is refused by its age anyway.
  auto rows = env.db->query("SELECT count(*) FROM acme_used_nonces WHERE expires_at > ?",
                            {std::int64_t{0}});
  BOOST_REQUIRE(rows);
  BOOST_TEST(rows->front().int64(0).value_or(0) == 21);
}
