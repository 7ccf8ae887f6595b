// An append whose answer is lost after it committed (PostgreSQL killed during COMMIT: the
// store reports `unavailable`, the log holds the events). The entity must not go on deciding
// on a state behind the log (docs/fault-tests.md, jobs left Running after a PostgreSQL kill).
#include <boost/test/unit_test.hpp>

#include <atomic>

#include "actors/runtime/entity_runtime.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

domain::command make(const std::string& name, const std::string& id, const std::string& body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = events::json_object::parse(body).value();
  c.principal = "apikey:test";
  c.command_id = name + ":" + id;
  return c;
}

/// A memory store that, while `lose_answers` is set, commits each append and then answers
/// `unavailable`, as a batch whose COMMIT reached the server before the connection died.
struct in_doubt_store : store::event_store {
  std::unique_ptr<store::event_store> inner = store::make_memory_store();
  std::atomic<bool> lose_answers{false};

  store::store_result<store::append_result> append(store::append_request req) override {
    return inner->append(std::move(req));
  }
  void append_async(store::append_request req, append_callback done) override {
    auto r = inner->append(std::move(req));
    if (r && lose_answers.load())
      return done(store::store_error{store::store_errc::unavailable,
                                     "postgres commit: connection lost while committing"});
    done(std::move(r));
  }
  store::store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream,
                                                                       std::int64_t from,
                                                                       size_t max) override {
    return inner->read_stream(stream, from, max);
  }
  store::store_result<std::vector<events::recorded_event>> read_all(std::int64_t from,
                                                                    size_t max) override {
    return inner->read_all(from, max);
  }
  store::store_result<std::int64_t> head_position() override { return inner->head_position(); }
  std::unique_ptr<store::subscription> subscribe(std::int64_t from,
                                                 store::event_handler handler) override {
    return inner->subscribe(from, std::move(handler));
  }
  std::unique_ptr<store::commit_watch> watch_commits(std::function<void()> on_commit) override {
    return inner->watch_commits(std::move(on_commit));
  }
  store::store_result<done> save_snapshot(const store::snapshot& s) override {
    return inner->save_snapshot(s);
  }
  store::store_result<std::optional<store::snapshot>> load_snapshot(
      const std::string& stream) override {
    return inner->load_snapshot(stream);
  }
  store::store_result<store::command_record> record_command(
      const store::command_record& rec) override {
    return inner->record_command(rec);
  }
  store::store_result<std::optional<store::command_record>> find_command(
      const std::string& id) override {
    return inner->find_command(id);
  }
  std::string backend() const override { return "in-doubt"; }
};

const char* job_body = R"({"type":"Issuance","certificate_id":"mc-1"})";

}  // namespace

BOOST_AUTO_TEST_SUITE(append_outcome)

BOOST_AUTO_TEST_CASE(an_append_committed_despite_its_error_is_seen_by_the_next_command) {
  in_doubt_store store;
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(store, clock);
  BOOST_REQUIRE(rt.execute("job", make("job.create", "job-1", job_body)).ok());

  store.lose_answers = true;
  auto started = rt.execute("job", make("job.start", "job-1", "{}"));
  BOOST_REQUIRE(!started.ok());
  BOOST_TEST(started.error().code == domain::domain_errc::unavailable);
  store.lose_answers = false;
  auto log = store.inner->read_stream("job-job-1");
  BOOST_REQUIRE(log.ok());
  BOOST_REQUIRE(log->size() == 2u);
  BOOST_TEST(log->back().type == "job.started");

  // The read and the next decision both see the log: the job is Running.
  auto read = rt.read("job", "job-1");
  BOOST_REQUIRE(read.ok());
  BOOST_TEST(read->view.str("status") == "Running");
  BOOST_TEST(read->stream_version == 2);
  // What the job timeout sends for a job stuck Running; a state still Pending refused it.
  auto failed = rt.execute("job", make("job.fail", "job-1", R"({"error":"stuck"})"));
  BOOST_REQUIRE_MESSAGE(failed.ok(), (failed.ok() ? "" : failed.error().message));
  BOOST_TEST(failed->view.str("status") == "Pending");
  BOOST_TEST(failed->view.int64("attempts") == 1);
  BOOST_TEST(failed->stream_version == 3);
}

BOOST_AUTO_TEST_CASE(a_retry_of_an_append_committed_despite_its_error_is_a_duplicate) {
  in_doubt_store store;
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime rt(store, clock);
  store.lose_answers = true;
  BOOST_REQUIRE(!rt.execute("job", make("job.create", "job-1", job_body)).ok());
  store.lose_answers = false;
  // The client repeats with the same command id: one job.created, answered as a replay.
  auto again = rt.execute("job", make("job.create", "job-1", job_body));
  BOOST_REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.error().message));
  BOOST_TEST(again->duplicate);
  BOOST_TEST(store.inner->read_stream("job-job-1")->size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
