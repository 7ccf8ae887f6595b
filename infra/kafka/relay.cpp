#include "infra/kafka/relay.hpp"

#include <fcntl.h>

#include "infra/kafka/detail/relay_impl.hpp"

namespace certctl::kafka {

relay::relay(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

relay::~relay() {
  stop();
}

result<std::unique_ptr<relay>, kafka_error> relay::create(store::event_store& store,
                                                          std::shared_ptr<sql::database> db,
                                                          relay_options options) {
  if (!db) return kafka_error{"kafka relay: no read database"};
  if (options.bootstrap_servers.empty()) return kafka_error{"kafka relay: no bootstrap servers"};
  if (options.topic.empty()) return kafka_error{"kafka relay: empty topic name"};
  if (options.batch_size == 0 || options.max_in_flight == 0)
    return kafka_error{"kafka relay: batch_size and max_in_flight must be positive"};
  // Check the properties now, so a typo fails at start rather than on the relay thread.
  if (auto conf = detail::make_conf(options.properties); !conf) return conf.error();
  auto checkpoint = load_relay_checkpoint(*db, options.name);
  if (!checkpoint) return checkpoint.error();
  auto p = std::make_unique<impl>(store, std::move(db), std::move(options));
  if (::pipe2(p->pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0)
    return kafka_error{"kafka relay: cannot create a pipe"};
  p->confirmed = p->stored = *checkpoint;
  p->base = p->next = *checkpoint + 1;
  p->st.confirmed = p->st.stored = p->st.produced = *checkpoint;
  return std::unique_ptr<relay>(new relay(std::move(p)));
}

result<done, kafka_error> relay::start() {
  auto& p = *impl_;
  if (p.started) return done{};
  if (auto made = p.make_producer(); !made) return made.error();
  p.started = true;
  p.last_store = steady::now();
  // The subscription only wakes the loop for new commits; the loop reads the backlog and
  // everything after it in batches with read_all.
  const auto head = p.store.head_position();
  p.sub = p.store.subscribe(head ? *head + 1 : p.next,
                            [&p](const events::recorded_event&) { p.wake(); });
  p.thread = std::thread([&p] { p.run(); });
  return done{};
}

void relay::stop() {
  auto& p = *impl_;
  if (!p.started) return;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.stopping && !p.thread.joinable()) return;
    p.stopping = true;
  }
  p.cv.notify_all();
  p.wake();
  if (p.sub) p.sub->stop();
  if (p.thread.joinable()) p.thread.join();
}

relay_status relay::status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->st;
}

result<std::int64_t, kafka_error> relay::lag() const {
  auto head = impl_->store.head_position();
  if (!head) return kafka_error{"kafka relay lag: " + head.error().message};
  return std::max<std::int64_t>(0, *head - status().confirmed);
}

bool relay::wait_for_confirmed(std::int64_t position, std::chrono::milliseconds max) const {
  std::unique_lock<std::mutex> lock(impl_->mu);
  return impl_->cv.wait_for(lock, max, [&] { return impl_->st.confirmed >= position; });
}

}  // namespace certctl::kafka
