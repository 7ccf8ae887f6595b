#pragma once
/// The relay's private state and loop (relay_loop.cpp); relay.cpp is the public facade.

#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "infra/kafka/cloudevents.hpp"
#include "infra/kafka/detail/rdkafka.hpp"
#include "infra/kafka/relay.hpp"

namespace certctl::kafka {

using steady = std::chrono::steady_clock;

/// All producer state is owned by the relay thread: librdkafka serves delivery reports and
/// errors from rd_kafka_poll, which only that thread calls, so the bookkeeping below needs no
/// lock. `mu` guards what other threads read (status, stopping).
struct relay::impl {
  store::event_store& store;
  std::shared_ptr<sql::database> db;
  relay_options opt;
  std::string source;

  // ---- relay thread only ----
  detail::handle_ptr producer;
  std::int64_t base = 1;   ///< position of acked.front()
  std::deque<bool> acked;  ///< delivery confirmed, for positions base .. next-1
  std::int64_t next = 1;   ///< next position to produce
  std::int64_t confirmed = 0;
  std::int64_t stored = 0;
  bool discarding = false;  ///< reports of a producer being torn down are ignored
  std::string failure;      ///< first permanent failure since the producer was made
  steady::time_point last_store{};
  std::chrono::milliseconds backoff{0};
  std::string last_logged;

  // ---- shared ----
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  relay_status st;
  bool stopping = false;
  int pipe_fds[2] = {-1, -1};  ///< wakes the relay: the store's subscription and librdkafka
  std::atomic<bool> wake_pending{false};
  std::unique_ptr<store::subscription> sub;
  std::thread thread;
  bool started = false;

  impl(store::event_store& s, std::shared_ptr<sql::database> d, relay_options o)
      : store(s), db(std::move(d)), opt(std::move(o)) {
    source = opt.source.empty() ? default_source() : opt.source;
  }
  ~impl() {
    for (int fd : pipe_fds)
      if (fd >= 0) ::close(fd);
  }

  void log(const std::string& line) {
    if (opt.log_to_stderr) std::cerr << "kafka relay " << opt.name << ": " << line << std::endl;
  }
  bool is_stopping() const {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }
  void wake() {
    if (!wake_pending.exchange(true)) (void)!::write(pipe_fds[1], "w", 1);
  }
  void drain_pipe() {
    wake_pending.store(false);
    char buf[256];
    while (::read(pipe_fds[0], buf, sizeof(buf)) > 0) {
    }
  }

  result<done, kafka_error> make_producer();
  void drop_producer();
  void serve();
  void on_delivery(std::int64_t position, rd_kafka_resp_err_t err, const char* text);
  void advance();
  void maybe_store(bool force);
  bool produce_more();
  void wait_for_work();
  void restart_after_failure();
  void run();
  void publish_status(const std::string& error = {});
};

}  // namespace certctl::kafka
