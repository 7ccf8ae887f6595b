// The cluster's command bus against librdkafka's mock cluster: ownership by consumer group,
// forwarding a command to the owner and back, take-over after a clean leave, malformed records,
// committed offsets, timeouts and stop. Timings are printed (--log_level=message) because the
// cluster layer is sized on them.
#include "infra/kafka/command_bus.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "infra/kafka/detail/rdkafka.hpp"
#include "infra/kafka/mock_cluster.hpp"

namespace certctl::kafka {
namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string topic = "certctl.commands";

double ms_since(clock_type::time_point t0) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count();
}

/// Polls `pred` every 20 ms until it holds or `timeout` passes.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 30s) {
  const auto deadline = clock_type::now() + timeout;
  while (!pred()) {
    if (clock_type::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::unique_ptr<mock_cluster> start_cluster(int partitions = 4) {
  auto cluster = mock_cluster::start(3);
  BOOST_REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error().message));
  auto made = (*cluster)->create_topic(topic, partitions);
  BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.error().message));
  return std::move(cluster).value();
}

command_bus_options options_for(const mock_cluster& cluster, const std::string& node_id,
                                const std::string& group) {
  command_bus_options o;
  o.bootstrap_servers = cluster.bootstrap_servers();
  o.node_id = node_id;
  o.group_id = group;
  o.session_timeout = 3s;  // the mock rebalances in about session.timeout.ms - 1 s
  o.request_timeout = 10s;
  o.log_to_stderr = false;
  o.properties = {{"reconnect.backoff.max.ms", "500"}};
  return o;
}

/// One node: a bus whose handler answers "reply:<node>:<body>" (or keeps the reply
/// functions unanswered when `answer` is false), recording what it saw.
struct node {
  std::string id;
  bool answer = true;
  std::mutex mu;
  std::vector<std::pair<int, std::string>> commands;
  std::vector<std::vector<int>> assignments;
  std::vector<command_bus::reply_fn> unanswered;
  std::unique_ptr<command_bus> bus;  ///< last: goes first, before what its handlers touch

  std::vector<std::pair<int, std::string>> seen() {
    std::lock_guard<std::mutex> lock(mu);
    return commands;
  }
  std::vector<int> last_assignment() {
    std::lock_guard<std::mutex> lock(mu);
    return assignments.empty() ? std::vector<int>{-1} : assignments.back();
  }
};

std::unique_ptr<node> make_node(command_bus_options o, bool answer = true) {
  auto n = std::make_unique<node>();
  n->id = o.node_id;
  n->answer = answer;
  node* self = n.get();
  auto bus = command_bus::create(
      std::move(o),
      [self](int partition, std::string body, command_bus::reply_fn reply) {
        std::lock_guard<std::mutex> lock(self->mu);
        self->commands.emplace_back(partition, body);
        if (self->answer)
          reply("reply:" + self->id + ":" + body);
        else
          self->unanswered.push_back(std::move(reply));
      },
      [self](const std::vector<int>& owned) {
        std::lock_guard<std::mutex> lock(self->mu);
        self->assignments.push_back(owned);
      });
  BOOST_REQUIRE_MESSAGE(bus, (bus ? "" : bus.error().message));
  n->bus = std::move(bus).value();
  return n;
}

void start(node& n) {
  auto started = n.bus->start();
  BOOST_REQUIRE_MESSAGE(started, (started ? "" : started.error().message));
}

command_bus::send_result send_sync(command_bus& bus, int partition, const std::string& body,
                                   std::chrono::milliseconds wait = 20s) {
  // Shared: if we give up waiting, a late callback must not touch a dead promise.
  auto promise = std::make_shared<std::promise<command_bus::send_result>>();
  auto future = promise->get_future();
  bus.send(partition, "certificate-" + body, body,
           [promise](command_bus::send_result r) { promise->set_value(std::move(r)); });
  if (future.wait_for(wait) != std::future_status::ready)
    return kafka_error{"test: send did not complete within the wait"};
  return future.get();
}

std::string text_of(const command_bus::send_result& r) {
  return r ? *r : "error: " + r.error().message;
}

/// Produces `count` records to `partition` through a bare producer: no certctl headers, or
/// only `header` when given.
void produce_raw(const mock_cluster& cluster, int partition, int count,
                 const std::string& header = {}) {
  auto conf = detail::make_conf({{"bootstrap.servers", cluster.bootstrap_servers()}});
  BOOST_REQUIRE(conf);
  rd_kafka_conf_set_log_cb(conf->get(), detail::quiet_log);
  auto rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  BOOST_REQUIRE(rk);
  for (int i = 0; i < count; ++i) {
    const std::string value = "garbage-" + std::to_string(i);
    rd_kafka_headers_t* h = rd_kafka_headers_new(1);
    if (!header.empty()) rd_kafka_header_add(h, header.c_str(), -1, "x", 1);
    BOOST_REQUIRE(rd_kafka_producev(rk->get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                                    RD_KAFKA_V_PARTITION(partition),
                                    RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                                    RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  BOOST_REQUIRE(rd_kafka_flush(rk->get(), 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

/// Mean round trip of `count` sequential sends to `partition`.
double mean_round_trip_ms(node& from, int partition, const std::string& expect_owner,
                          int count = 20) {
  const auto t0 = clock_type::now();
  for (int i = 0; i < count; ++i) {
    const std::string body = "rt" + std::to_string(partition) + "-" + std::to_string(i);
    BOOST_REQUIRE_EQUAL(text_of(send_sync(*from.bus, partition, body)),
                        "reply:" + expect_owner + ":" + body);
  }
  return ms_since(t0) / count;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(command_bus_suite)

BOOST_AUTO_TEST_CASE(rejects_bad_options_and_an_unreachable_cluster) {
  auto cluster = start_cluster();
  auto noop = [](int, std::string, command_bus::reply_fn) {};
  auto o = options_for(*cluster, "", "g-bad");
  BOOST_CHECK(!command_bus::create(o, noop, nullptr));
  o.node_id = "a";
  BOOST_CHECK(!command_bus::create(o, nullptr, nullptr));
  o.properties = {{"no.such.property", "1"}};
  BOOST_CHECK(!command_bus::create(o, noop, nullptr));
  o.properties.clear();
  // (The mock cluster creates any topic asked for, so a missing commands topic cannot be
  // shown here; an unreachable cluster fails start() the same way.)
  o.bootstrap_servers = "127.0.0.1:1";
  auto bus = command_bus::create(o, noop, nullptr);
  BOOST_REQUIRE(bus);
  const auto t0 = clock_type::now();
  auto started = (*bus)->start(1s);
  BOOST_CHECK(!started);
  BOOST_CHECK(ms_since(t0) < 5000);
  if (!started) BOOST_TEST_MESSAGE("unreachable cluster: " << started.error().message);
  // Not started: sends fail at once instead of waiting for a timeout.
  BOOST_CHECK(!send_sync(**bus, 0, "x", 1s));
}

BOOST_AUTO_TEST_CASE(two_nodes_share_forward_and_take_over_on_leave) {
  auto cluster = start_cluster();
  auto a = make_node(options_for(*cluster, "a", "g-share"));
  auto b = make_node(options_for(*cluster, "b", "g-share"));
  const auto t_start = clock_type::now();
  start(*a);
  start(*b);
  BOOST_CHECK_EQUAL(a->bus->partitions(), 4);

  // (a) Both joined; the owned sets are disjoint and cover every partition.
  const bool shared = eventually([&] {
    if (!a->bus->joined() || !b->bus->joined()) return false;
    auto oa = a->bus->owned(), ob = b->bus->owned();
    if (oa.empty() || ob.empty()) return false;
    std::set<int> all(oa.begin(), oa.end());
    all.insert(ob.begin(), ob.end());
    return all.size() == 4 && oa.size() + ob.size() == 4;
  });
  BOOST_REQUIRE_MESSAGE(shared, "owned sets never settled");
  BOOST_TEST_MESSAGE("both joined and balanced after " << ms_since(t_start) << " ms");
  BOOST_CHECK(a->last_assignment() == a->bus->owned());
  BOOST_CHECK(b->last_assignment() == b->bus->owned());
  const int pa = a->bus->owned().front(), pb = b->bus->owned().front();

  // (b) Forwarded to the other node, and to itself, both through Kafka.
  const auto t_first = clock_type::now();
  BOOST_CHECK_EQUAL(text_of(send_sync(*a->bus, pb, "hello")), "reply:b:hello");
  BOOST_TEST_MESSAGE("first send (producer warm-up included): " << ms_since(t_first) << " ms");
  BOOST_CHECK_EQUAL(text_of(send_sync(*a->bus, pa, "self")), "reply:a:self");
  BOOST_CHECK_EQUAL(text_of(send_sync(*b->bus, pa, "back")), "reply:a:back");
  // Forward timing: each side counts what it saw of those three round trips. Replies and
  // executions are counted before the caller's callback returns; broker acks may come later.
  {
    const auto ta = a->bus->timing(), tb = b->bus->timing();
    BOOST_CHECK_EQUAL(ta.round_trips, 2u);  // hello, self
    BOOST_CHECK_EQUAL(ta.replies, 2u);
    BOOST_CHECK_EQUAL(ta.commands, 2u);  // self, back
    BOOST_CHECK_EQUAL(ta.executed, 2u);
    BOOST_CHECK_EQUAL(tb.round_trips, 1u);  // back
    BOOST_CHECK_EQUAL(tb.commands, 1u);     // hello
    BOOST_CHECK_EQUAL(tb.executed, 1u);
    BOOST_CHECK_GT(ta.round_trip_us, 0u);
    // A round trip contains the owner's execution and both transits, so no part exceeds it.
    BOOST_CHECK_LE(tb.execute_us + tb.command_transit_us, ta.round_trip_us + tb.round_trip_us);
    BOOST_CHECK(eventually([&] { return a->bus->timing().command_acks == 2; }));
  }
  // Computed first: checks inside a BOOST_TEST_MESSAGE expression swallow the message.
  const double forwarded = mean_round_trip_ms(*a, pb, "b");
  const double local = mean_round_trip_ms(*a, pa, "a");
  BOOST_TEST_MESSAGE("round trip, mean of 20: forwarded a->b->a "
                     << forwarded << " ms, own partition a->a " << local << " ms");
  // Concurrent sends to every partition from both nodes all come back to their caller.
  {
    const auto owned_by_a = a->bus->owned();
    std::vector<std::future<command_bus::send_result>> futures;
    for (int i = 0; i < 40; ++i) {
      auto promise = std::make_shared<std::promise<command_bus::send_result>>();
      futures.push_back(promise->get_future());
      (i % 2 ? b : a)
          ->bus->send(i % 4, "k", "c" + std::to_string(i),
                      [promise](command_bus::send_result r) { promise->set_value(std::move(r)); });
    }
    for (int i = 0; i < 40; ++i) {
      auto& f = futures[static_cast<size_t>(i)];
      BOOST_REQUIRE(f.wait_for(20s) == std::future_status::ready);
      const bool mine = std::count(owned_by_a.begin(), owned_by_a.end(), i % 4) > 0;
      BOOST_CHECK_EQUAL(text_of(f.get()),
                        std::string("reply:") + (mine ? "a" : "b") + ":c" + std::to_string(i));
    }
  }

  // lag(): every owned partition read to its end.
  BOOST_CHECK(eventually([&] {
    auto lag = a->bus->lag();
    if (lag.size() != a->bus->owned().size()) return false;
    return std::all_of(lag.begin(), lag.end(), [](const partition_lag& l) {
      return l.position >= 0 && l.high_watermark >= 0 && l.lag() == 0;
    });
  }));

  // (c) b leaves cleanly: a takes everything, and b's former partition answers from a.
  const auto t_stop = clock_type::now();
  b->bus->stop();
  const double stop_ms = ms_since(t_stop);
  BOOST_CHECK(b->bus->owned().empty());
  BOOST_CHECK(b->last_assignment().empty());
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          return a->bus->owned() == std::vector<int>{0, 1, 2, 3};
                        }),
                        "a never took over b's partitions");
  BOOST_TEST_MESSAGE("b.stop() took " << stop_ms << " ms; a owned all 4 partitions "
                                      << ms_since(t_stop) << " ms after b.stop() began");
  const auto t_after = clock_type::now();
  BOOST_CHECK_EQUAL(text_of(send_sync(*a->bus, pb, "after")), "reply:a:after");
  BOOST_TEST_MESSAGE("first send to the taken-over partition: " << ms_since(t_after) << " ms");
  // Sends from a stopped bus fail at once.
  BOOST_CHECK(!send_sync(*b->bus, pa, "x", 1s));
  a->bus->stop();
  BOOST_CHECK(a->last_assignment().empty());
}

BOOST_AUTO_TEST_CASE(malformed_records_are_skipped_and_answered_offsets_committed) {
  auto cluster = start_cluster();
  auto a = make_node(options_for(*cluster, "a", "g-malformed"));
  start(*a);
  BOOST_REQUIRE(eventually([&] { return a->bus->owned() == std::vector<int>{0, 1, 2, 3}; }));

  // (d) No headers at all on partition 0; a request id without a reply address on 1.
  produce_raw(*cluster, 0, 2);
  produce_raw(*cluster, 1, 1, "certctl-request-id");
  for (int p = 0; p < 4; ++p)
    BOOST_CHECK_EQUAL(text_of(send_sync(*a->bus, p, "ok" + std::to_string(p))),
                      "reply:a:ok" + std::to_string(p));
  BOOST_CHECK_EQUAL(a->seen().size(), 4u);  // the malformed records never reached the handler
  a->bus->stop();

  // A new member of the group resumes after what was answered or skipped: records arrive in
  // offset order per partition, so had anything old been redelivered, it would come first.
  auto a2 = make_node(options_for(*cluster, "a2", "g-malformed"));
  start(*a2);
  BOOST_REQUIRE(eventually([&] { return a2->bus->owned() == std::vector<int>{0, 1, 2, 3}; }));
  for (int p = 0; p < 4; ++p)
    BOOST_CHECK_EQUAL(text_of(send_sync(*a2->bus, p, "new" + std::to_string(p))),
                      "reply:a2:new" + std::to_string(p));
  const auto seen = a2->seen();
  BOOST_CHECK_EQUAL(seen.size(), 4u);
  for (const auto& [p, body] : seen) BOOST_CHECK_EQUAL(body, "new" + std::to_string(p));
}

BOOST_AUTO_TEST_CASE(unanswered_sends_time_out_and_stop_fails_pending) {
  auto cluster = start_cluster();
  auto o = options_for(*cluster, "a", "g-timeout");
  o.request_timeout = 500ms;
  auto a = make_node(o, /*answer=*/false);
  start(*a);
  BOOST_REQUIRE(eventually([&] { return a->bus->owned().size() == 4; }));

  // (e) The owner (a itself) holds the reply function and never answers.
  const auto t0 = clock_type::now();
  auto r = send_sync(*a->bus, 2, "silence", 10s);
  const double took = ms_since(t0);
  BOOST_REQUIRE(!r);
  BOOST_CHECK_EQUAL(r.error().message, "no reply within 500 ms from the owner of partition 2");
  BOOST_CHECK(took >= 500 && took < 3000);
  BOOST_TEST_MESSAGE("timed out after " << took << " ms");
  BOOST_CHECK(eventually([&] { return a->seen().size() == 1; }));

  // stop() fails what is still waiting, without waiting for its timeout.
  auto promise = std::make_shared<std::promise<command_bus::send_result>>();
  auto future = promise->get_future();
  a->bus->send(1, "k", "pending",
               [promise](command_bus::send_result res) { promise->set_value(std::move(res)); });
  a->bus->stop();
  BOOST_REQUIRE(future.wait_for(5s) == std::future_status::ready);
  auto stopped = future.get();
  BOOST_REQUIRE(!stopped);
  BOOST_TEST_MESSAGE("pending send at stop: " << stopped.error().message);
  a->bus->stop();  // idempotent

  // Answering after stop, and after the bus is gone, is harmless.
  std::vector<command_bus::reply_fn> late;
  {
    std::lock_guard<std::mutex> lock(a->mu);
    late.swap(a->unanswered);
  }
  BOOST_REQUIRE(!late.empty());
  late.front()("late");
  a->bus.reset();
  for (auto& reply : late) reply("later");
  late.front()("twice");
}

// The other side of the crash test: a node in its own process, so that SIGKILL stops it
// without leaving the group. Does nothing unless the crash test started it.
BOOST_AUTO_TEST_CASE(crash_helper_process) {
  const char* bootstrap = std::getenv("CERTCTL_TEST_CRASH_BOOTSTRAP");
  BOOST_CHECK(true);
  if (bootstrap == nullptr) return;
  command_bus_options o;
  o.bootstrap_servers = bootstrap;
  o.node_id = "c";
  o.group_id = "g-crash";
  o.session_timeout = 3s;
  o.log_to_stderr = false;
  auto c = make_node(o);
  start(*c);
  std::this_thread::sleep_for(60s);  // killed long before; bounded in case the parent died
}

BOOST_AUTO_TEST_CASE(a_crashed_node_loses_its_partitions_after_the_session_timeout) {
  auto cluster = start_cluster();
  const std::string env = "CERTCTL_TEST_CRASH_BOOTSTRAP=" + cluster->bootstrap_servers();
  // /proc/self/exe rather than its target: a concurrent rebuild may have replaced the file.
  std::string exe = "/proc/self/exe";
  std::string arg1 = "--run_test=command_bus_suite/crash_helper_process";
  std::string arg2 = "--log_level=nothing";
  char* argv[] = {exe.data(), arg1.data(), arg2.data(), nullptr};
  char* envp[] = {const_cast<char*>(env.c_str()), nullptr};
  pid_t pid = 0;
  BOOST_REQUIRE_EQUAL(::posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv, envp), 0);
  struct reaper {
    pid_t pid;
    ~reaper() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reap{pid};

  auto o = options_for(*cluster, "a", "g-crash");
  o.request_timeout = 20s;
  auto a = make_node(o);
  start(*a);
  // c joins from its process at about the same time; wait until the two share the topic.
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          auto owned = a->bus->owned();
                          return a->bus->joined() && !owned.empty() && owned.size() < 4;
                        }),
                        "the helper process never joined the group");
  const auto mine = a->bus->owned();
  int theirs = 0;
  while (std::count(mine.begin(), mine.end(), theirs) > 0) ++theirs;
  BOOST_CHECK_EQUAL(text_of(send_sync(*a->bus, theirs, "alive")), "reply:c:alive");

  // SIGKILL: no LeaveGroup; the group notices when c's session times out.
  const auto t_kill = clock_type::now();
  BOOST_REQUIRE_EQUAL(::kill(pid, SIGKILL), 0);
  ::waitpid(pid, nullptr, 0);
  reap.pid = 0;
  // Sent while nobody owns the partition: it waits in Kafka and the new owner answers it.
  auto promise = std::make_shared<std::promise<command_bus::send_result>>();
  auto answered = promise->get_future();
  a->bus->send(theirs, "k", "orphan",
               [promise](command_bus::send_result r) { promise->set_value(std::move(r)); });
  BOOST_REQUIRE_MESSAGE(eventually([&] {
                          return a->bus->owned() == std::vector<int>{0, 1, 2, 3};
                        }),
                        "a never took over the crashed node's partitions");
  const double takeover_ms = ms_since(t_kill);
  BOOST_REQUIRE(answered.wait_for(20s) == std::future_status::ready);
  BOOST_CHECK_EQUAL(text_of(answered.get()), "reply:a:orphan");
  BOOST_TEST_MESSAGE("crash (session.timeout.ms 3000): a owned all 4 partitions "
                     << takeover_ms << " ms after SIGKILL; the command sent meanwhile was answered "
                     << ms_since(t_kill) << " ms after SIGKILL");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace certctl::kafka
