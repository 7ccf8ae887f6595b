// The bus's producer and its reply side: sending commands, answering them, reading this
// node's reply topic, and completing or timing out the sends that wait for a reply.
#include <thread>

#include "infra/crypto/random.hpp"
#include "infra/kafka/detail/command_bus_impl.hpp"

namespace certctl::kafka::detail {

namespace {

using send_result = command_bus::send_result;

rd_kafka_headers_t* make_headers(std::initializer_list<std::pair<const char*, std::string>> kv) {
  rd_kafka_headers_t* h = rd_kafka_headers_new(kv.size());
  for (const auto& [k, v] : kv)
    rd_kafka_header_add(h, k, -1, v.data(), static_cast<ssize_t>(v.size()));
  return h;
}

}  // namespace

bus_core::~bus_core() {
  if (producer) {
    // Whatever is still queued will not be delivered; purging lets its delivery reports free
    // their contexts (and fail any send that somehow remained) before the producer goes.
    rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer.get(), 100);
  }
  // The handles go first, explicitly: destroying one runs its error and log callbacks, which
  // use members declared after the handles (destroyed before them by default).
  consumer.reset();
  replies.reset();
  producer.reset();
}

result<done, kafka_error> bus_core::open_reply_topic(steady::time_point deadline) {
  // The producer's metadata request may create the topic (brokers with auto-creation on, and
  // the mock cluster); a cluster without auto-creation needs it created beforehand.
  std::string error = "not found";
  while (partition_count_of(producer.get(), reply_topic, error, ms_until(deadline, 2000)) == 0) {
    if (steady::now() >= deadline)
      return kafka_error{"command bus: reply topic " + reply_topic + ": " + error +
                         " (create it, or enable auto.create.topics.enable on the brokers)"};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Start at the current end, resolved now rather than by the fetcher later: a reply
  // produced after start() returns is then never skipped by a late OFFSET_END lookup.
  std::int64_t low = -1, high = -1;
  rd_kafka_resp_err_t err;
  while ((err = rd_kafka_query_watermark_offsets(replies.get(), reply_topic.c_str(), 0, &low, &high,
                                                 ms_until(deadline, 1000))) !=
         RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (steady::now() >= deadline)
      return kafka_error{"command bus: reply topic " + reply_topic +
                         " end offset: " + rd_kafka_err2str(err)};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, reply_topic.c_str(), 0)->offset = high;
  err = rd_kafka_assign(replies.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return kafka_error{"command bus: assigning " + reply_topic + ": " + rd_kafka_err2str(err)};
  return done{};
}

void bus_core::producer_loop() {
  // Serves delivery reports as they arrive: a failed command fails its send at once, and a
  // delivered reply releases its command's offset.
  while (!stopping) rd_kafka_poll(producer.get(), 100);
  // Replies answered just before stop() still reach their callers.
  rd_kafka_flush(producer.get(), 2000);
}

void bus_core::reply_loop() {
  while (!stopping) {
    // A short poll: the same loop times out pending sends.
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(replies.get(), 20)) {
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        on_reply(m);
      else
        log_once(std::string("consuming replies: ") + rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
    }
    expire_pending();
  }
  rd_kafka_consumer_close(replies.get());
}

void bus_core::on_reply(const rd_kafka_message_t* m) {
  std::string id;
  if (!header_value(m, request_id_header, id)) {
    if (m->key == nullptr) return;
    id.assign(static_cast<const char*>(m->key), m->key_len);
  }
  // Unknown ids are late replies (after a timeout) or a second owner's duplicate answer.
  steady::time_point sent;
  auto done = take_pending(id, &sent);
  if (!done) return;
  if (std::int64_t us = 0; timing_counters::transit_of(m, us))
    timing_counters::add(timing.replies, timing.reply_transit_us, us);
  // Counted before `done` runs, so whoever it wakes sees this round trip counted.
  timing_counters::add(
      timing.round_trips, timing.round_trip_us,
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - sent).count());
  std::string body;
  if (m->payload != nullptr) body.assign(static_cast<const char*>(m->payload), m->len);
  done(send_result(std::move(body)));
}

std::function<void(send_result)> bus_core::take_pending(const std::string& id,
                                                        steady::time_point* sent) {
  std::lock_guard<std::mutex> lock(pending_mu);
  auto it = pending.find(id);
  if (it == pending.end()) return {};
  auto done = std::move(it->second.done);
  if (sent != nullptr) *sent = it->second.sent;
  pending.erase(it);
  return done;
}

void bus_core::expire_pending() {
  const auto now = steady::now();
  std::vector<std::pair<int, std::function<void(send_result)>>> expired;
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.deadline > now) {
        ++it;
        continue;
      }
      expired.emplace_back(it->second.partition, std::move(it->second.done));
      it = pending.erase(it);
    }
  }
  for (auto& [partition, done] : expired)
    done(kafka_error{"no reply within " + std::to_string(opt.request_timeout.count()) +
                     " ms from the owner of partition " + std::to_string(partition)});
}

void bus_core::fail_all_pending(const std::string& why) {
  std::unordered_map<std::string, pending_send> taken;
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    pending_closed = true;
    taken.swap(pending);
  }
  for (auto& [id, p] : taken) p.done(kafka_error{why});
}

void bus_core::send(int partition, const std::string& routing_key, std::string body,
                    std::function<void(send_result)> done) {
  if (!started || stopping) {
    done(kafka_error{"command bus: not running"});
    return;
  }
  if (partition < 0 || partition >= partition_count) {
    done(kafka_error{"command bus: no partition " + std::to_string(partition) + " in " +
                     opt.commands_topic + " (" + std::to_string(partition_count) + ")"});
    return;
  }
  const std::string id = crypto::uuid_v4();
  {
    std::lock_guard<std::mutex> lock(pending_mu);
    // Checked under the lock: a send racing stop() fails here, never waits for ever.
    if (pending_closed) {
      done(kafka_error{"command bus: not running"});
      return;
    }
    const auto now = steady::now();
    pending.emplace(id, pending_send{std::move(done), now + opt.request_timeout, partition, now});
  }
  rd_kafka_headers_t* headers = make_headers({{request_id_header, id},
                                              {reply_to_header, reply_topic},
                                              {sent_at_header, std::to_string(wall_us())}});
  auto* d = new bus_delivery{false, id, partition, -1, 0, steady::now()};
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(opt.commands_topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_KEY(routing_key.data(), routing_key.size()),
      RD_KAFKA_V_VALUE(body.data(), body.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_headers_destroy(headers);  // ownership passes only on success
  delete d;
  if (auto f = take_pending(id))
    f(kafka_error{"producing a command to partition " + std::to_string(partition) + ": " +
                  rd_kafka_err2str(err)});
}

void bus_core::produce_reply(const std::string& reply_to, const std::string& request_id,
                             std::string body, int partition, std::int64_t offset,
                             std::uint64_t epoch) {
  rd_kafka_headers_t* headers =
      make_headers({{request_id_header, request_id}, {sent_at_header, std::to_string(wall_us())}});
  auto* d = new bus_delivery{true, {}, partition, offset, epoch, {}};
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      producer.get(), RD_KAFKA_V_TOPIC(reply_to.c_str()), RD_KAFKA_V_PARTITION(0),
      RD_KAFKA_V_KEY(request_id.data(), request_id.size()),
      RD_KAFKA_V_VALUE(body.data(), body.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
  rd_kafka_headers_destroy(headers);
  delete d;
  log("reply to " + reply_to + " not sent: " + rd_kafka_err2str(err));
  complete(partition, offset, epoch);  // the command ran; redelivery would not help the caller
}

void bus_core::on_delivery(const rd_kafka_message_t* m) {
  std::unique_ptr<bus_delivery> d(static_cast<bus_delivery*>(m->_private));
  if (!d) return;
  const bool failed = m->err != RD_KAFKA_RESP_ERR_NO_ERROR;
  if (!d->is_reply) {
    if (!failed) {  // the reply (or the timeout) completes the send
      timing_counters::add(
          timing.command_acks, timing.command_ack_us,
          std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - d->queued).count());
      return;
    }
    if (auto f = take_pending(d->request_id))
      f(kafka_error{"producing a command to partition " + std::to_string(d->partition) + ": " +
                    rd_kafka_message_errstr(m)});
    return;
  }
  if (failed)
    log("reply for partition " + std::to_string(d->partition) + " offset " +
        std::to_string(d->offset) + " lost: " + rd_kafka_message_errstr(m));
  // Stored either way: the command was executed, and the caller has given up by now.
  complete(d->partition, d->offset, d->epoch);
}

}  // namespace certctl::kafka::detail
