// The relay thread: read the log in batches, produce, serve delivery reports, advance the
// checkpoint over the confirmed prefix, and start over from it after a permanent failure.
#include <algorithm>

#include "infra/kafka/detail/checkpoint.hpp"
#include "infra/kafka/detail/relay_impl.hpp"

namespace certctl::kafka {

namespace {

void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<relay::impl*>(opaque)->on_delivery(
      static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(m->_private)), m->err,
      m->err != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_message_errstr(m) : nullptr);
}

void error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<relay::impl*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char text[512];
    rd_kafka_fatal_error(rk, text, sizeof(text));
    if (self->failure.empty()) self->failure = std::string("fatal producer error: ") + text;
    return;
  }
  // Transport errors and "all brokers down" are what an outage looks like: librdkafka keeps
  // retrying, so we only say so, once per distinct message.
  if (self->last_logged != reason) {
    self->last_logged = reason;
    self->log(std::string("cluster: ") + reason + " (retrying)");
  }
}

void log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // librdkafka's own log lines (level <= 4 are warnings and worse) go to stderr unless quiet.
  auto* self = static_cast<relay::impl*>(rd_kafka_opaque(rk));
  if (self != nullptr && self->opt.log_to_stderr && level <= 4)
    std::cerr << "kafka relay " << self->opt.name << ": librdkafka " << fac << ": " << buf
              << std::endl;
}

}  // namespace

result<done, kafka_error> relay::impl::make_producer() {
  std::vector<kafka_property> props = {
      {"bootstrap.servers", opt.bootstrap_servers},
      {"client.id", "certctl-relay-" + opt.name},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"max.in.flight.requests.per.connection", "5"},
      {"message.timeout.ms", "0"},  // infinite: an outage delays delivery, never fails it
      {"linger.ms", "5"},
      // Java's default partitioner: Java producers of the same keys agree on partitions.
      {"partitioner", "murmur2_random"},
  };
  props.insert(props.end(), opt.properties.begin(), opt.properties.end());
  auto conf = detail::make_conf(props);
  if (!conf) return conf.error();
  rd_kafka_conf_set_opaque(conf->get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf->get(), delivery_cb);
  rd_kafka_conf_set_error_cb(conf->get(), error_cb);
  rd_kafka_conf_set_log_cb(conf->get(), log_cb);
  auto rk = detail::make_handle(RD_KAFKA_PRODUCER, std::move(conf).value());
  if (!rk) return rk.error();
  producer = std::move(rk).value();
  // librdkafka writes to the pipe when its queue (delivery reports, errors) becomes
  // non-empty, so the relay sleeps in poll() yet reacts to reports and new events at once.
  rd_kafka_queue_t* q = rd_kafka_queue_get_main(producer.get());
  rd_kafka_queue_io_event_enable(q, pipe_fds[1], "k", 1);
  rd_kafka_queue_destroy(q);
  discarding = false;
  failure.clear();
  return done{};
}

void relay::impl::drop_producer() {
  if (!producer) return;
  discarding = true;
  rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer.get(), 0);
  producer.reset();
  // Whatever was in flight counts as not delivered: produce again from the confirmed prefix.
  acked.clear();
  base = next = confirmed + 1;
}

void relay::impl::serve() {
  if (!producer) return;
  while (rd_kafka_poll(producer.get(), 0) > 0) {
  }
}

void relay::impl::on_delivery(std::int64_t position, rd_kafka_resp_err_t err, const char* text) {
  if (discarding || position < base || position >= next) return;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (failure.empty())
      failure = "position " + std::to_string(position) + " failed: " + (text ? text : "?");
    return;
  }
  acked[static_cast<size_t>(position - base)] = true;
  std::lock_guard<std::mutex> lock(mu);
  ++st.delivered;
}

void relay::impl::advance() {
  const std::int64_t before = confirmed;
  while (!acked.empty() && acked.front()) {
    acked.pop_front();
    ++base;
    confirmed = base - 1;
  }
  if (confirmed != before) {
    backoff = std::chrono::milliseconds(0);
    publish_status();
  }
}

void relay::impl::publish_status(const std::string& error) {
  relay_status copy;
  {
    std::lock_guard<std::mutex> lock(mu);
    st.confirmed = confirmed;
    st.stored = stored;
    st.produced = next - 1;
    if (!error.empty()) st.last_error = error;
    copy = st;
  }
  cv.notify_all();
  if (opt.on_progress) opt.on_progress(copy);
}

void relay::impl::maybe_store(bool force) {
  if (confirmed <= stored) return;
  const auto now = steady::now();
  if (!force && now - last_store < opt.checkpoint_interval) return;
  last_store = now;
  if (auto r = detail::store_checkpoint(*db, opt.name, confirmed); !r) {
    // Retried at the next interval; a restart meanwhile only re-publishes (same ce_id).
    log(r.error().message);
    std::lock_guard<std::mutex> lock(mu);
    ++st.checkpoint_errors;
    st.last_error = r.error().message;
    return;
  }
  stored = confirmed;
  publish_status();
}

bool relay::impl::produce_more() {
  if (!producer || acked.size() >= opt.max_in_flight) return false;
  const size_t want = std::min(opt.batch_size, opt.max_in_flight - acked.size());
  auto batch = store.read_all(next, want);
  if (!batch) {
    log("reading the log: " + batch.error().message);
    publish_status("reading the log: " + batch.error().message);
    return false;
  }
  for (const auto& e : *batch) {
    if (e.position != next) {
      // The store promises gap-free positions; refusing to skip is the only safe answer.
      publish_status("log gap: expected position " + std::to_string(next) + ", read " +
                     std::to_string(e.position));
      return false;
    }
    const kafka_record rec = to_kafka_record(e, source);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(rec.headers.size());
    for (const auto& [k, v] : rec.headers)
      rd_kafka_header_add(headers, k.data(), static_cast<ssize_t>(k.size()), v.data(),
                          static_cast<ssize_t>(v.size()));
    // No explicit timestamp: Kafka retention runs on it, and an old backlog stamped with
    // occurred_at could be deleted on arrival. ce_time carries occurred_at.
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer.get(), RD_KAFKA_V_TOPIC(opt.topic.c_str()),
        RD_KAFKA_V_KEY(rec.key.data(), rec.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(rec.value.data()), rec.value.size()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::intptr_t>(e.position))),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_headers_destroy(headers);                       // ownership passes only on success
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return false;  // reports will wake us
      failure = "producing position " + std::to_string(next) + ": " + rd_kafka_err2str(err);
      return false;
    }
    acked.push_back(false);
    ++next;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    st.produced = next - 1;
  }
  return batch->size() == want;
}

void relay::impl::wait_for_work() {
  auto timeout = opt.idle_wait;
  if (confirmed > stored) {
    const auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
        last_store + opt.checkpoint_interval - steady::now());
    timeout = std::clamp(due, std::chrono::milliseconds(0), timeout);
  }
  pollfd p{pipe_fds[0], POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(timeout.count()));
}

void relay::impl::restart_after_failure() {
  const std::string why = failure;
  log(why + "; producing again from position " + std::to_string(confirmed + 1));
  {
    std::lock_guard<std::mutex> lock(mu);
    ++st.failures;
  }
  publish_status(why);
  if (producer) {
    // Let what was produced before the failure be confirmed first; otherwise a record that
    // fails at once on every attempt would purge its predecessors each time, for ever.
    rd_kafka_flush(producer.get(), static_cast<int>(opt.stop_timeout.count()));
    serve();
    advance();
    maybe_store(true);
  }
  drop_producer();
  while (true) {
    backoff = std::clamp(backoff * 2, std::chrono::milliseconds(100), opt.max_retry_backoff);
    {
      std::unique_lock<std::mutex> lock(mu);
      if (cv.wait_for(lock, backoff, [&] { return stopping; })) return;
    }
    auto made = make_producer();
    if (made) return;
    log(made.error().message);
    publish_status(made.error().message);
  }
}

void relay::impl::run() {
  while (!is_stopping()) {
    drain_pipe();
    serve();
    advance();
    if (!failure.empty() || !producer) {
      if (failure.empty()) failure = "no producer";
      restart_after_failure();
      continue;
    }
    maybe_store(false);
    if (produce_more()) continue;  // a full batch: more may be waiting
    wait_for_work();
  }
  if (producer) {
    // Give outstanding deliveries a chance, so a clean restart republishes nothing.
    rd_kafka_flush(producer.get(), static_cast<int>(opt.stop_timeout.count()));
    serve();
    advance();
  }
  maybe_store(true);
  drop_producer();
  publish_status();
}

}  // namespace certctl::kafka
