// The schedulers' view in cluster mode: only entities whose stream this node owns.
#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "actors/cluster/owned_work_source.hpp"

using namespace certctl;
using namespace certctl::schedulers;

namespace {

/// Answers the same two rows for every query.
struct two_of_each : due_work_source {
  template <class T>
  static std::vector<T> pair(T a, T b) {
    return {std::move(a), std::move(b)};
  }
  static due_certificate cert(const char* id) {
    due_certificate c;
    c.id = id;
    return c;
  }
  static due_job job(const char* id) {
    due_job j;
    j.id = id;
    return j;
  }
  source_result<std::vector<due_certificate>> certificates_expiring_by(events::timestamp_us,
                                                                       size_t) override {
    return pair(cert("mine"), cert("theirs"));
  }
  source_result<std::vector<due_certificate>> short_lived_expired_by(events::timestamp_us,
                                                                     size_t) override {
    return pair(cert("mine"), cert("theirs"));
  }
  source_result<std::vector<renewal_policy_info>> renewal_policies() override {
    return std::vector<renewal_policy_info>(3);
  }
  source_result<std::optional<renewal_policy_info>> renewal_policy(const std::string&) override {
    return std::optional<renewal_policy_info>(renewal_policy_info{});
  }
  source_result<std::vector<due_job>> pending_jobs_due(events::timestamp_us, size_t) override {
    return pair(job("mine"), job("theirs"));
  }
  source_result<std::vector<due_job>> jobs_awaiting_csr_since(events::timestamp_us,
                                                              size_t) override {
    return pair(job("theirs"), job("mine"));
  }
  source_result<std::vector<due_job>> jobs_running_since(events::timestamp_us, size_t) override {
    return source_error{"database down"};
  }
  source_result<std::vector<silent_agent>> agents_silent_since(events::timestamp_us,
                                                               size_t) override {
    return std::vector<silent_agent>{{"mine", 0}, {"theirs", 0}};
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(only_owned_entities_reach_the_scheduler_loops) {
  two_of_each inner;
  std::vector<std::string> asked;
  cluster::owned_work_source owned(inner, [&](const std::string& stream) {
    asked.push_back(stream);
    return stream.size() >= 4 && stream.compare(stream.size() - 4, 4, "mine") == 0;
  });
  auto certs = owned.certificates_expiring_by(0, 10);
  BOOST_REQUIRE(certs.ok());
  BOOST_REQUIRE(certs->size() == 1u);
  BOOST_TEST(certs->front().id == "mine");
  BOOST_TEST(owned.short_lived_expired_by(0, 10)->size() == 1u);
  BOOST_TEST(owned.pending_jobs_due(0, 10)->front().id == "mine");
  BOOST_TEST(owned.jobs_awaiting_csr_since(0, 10)->size() == 1u);
  BOOST_TEST(owned.agents_silent_since(0, 10)->front().id == "mine");
  // Ownership is asked by stream id, per kind.
  BOOST_TEST((std::find(asked.begin(), asked.end(), "certificate-mine") != asked.end()));
  BOOST_TEST((std::find(asked.begin(), asked.end(), "job-theirs") != asked.end()));
  BOOST_TEST((std::find(asked.begin(), asked.end(), "agent-mine") != asked.end()));
  // Errors and entity-less answers pass through untouched.
  BOOST_TEST(!owned.jobs_running_since(0, 10).ok());
  BOOST_TEST(owned.renewal_policies()->size() == 3u);
  BOOST_TEST(owned.renewal_policy("rp")->has_value());
}
