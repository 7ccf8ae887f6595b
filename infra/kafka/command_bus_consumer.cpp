// The commands consumer: group membership (rebalance callback, owned set), handing records
// to the command handler, and storing offsets only over the answered prefix of a partition.
#include <algorithm>
#include <exception>

#include "infra/kafka/detail/command_bus_impl.hpp"

namespace certctl::kafka::detail {

namespace {

/// Shared by the copies of one command's reply function: answers at most once, and a command
/// whose every copy was dropped unanswered still releases its offset (else the partition's
/// stored offset would stop there until the next rebalance).
struct reply_state {
  std::weak_ptr<bus_core> core;
  std::string reply_to, request_id;
  int partition = 0;
  std::int64_t offset = 0;
  std::uint64_t epoch = 0;
  std::chrono::steady_clock::time_point consumed{};
  std::atomic<bool> replied{false};

  ~reply_state() {
    if (replied) return;
    if (auto c = core.lock()) {
      c->log("command at partition " + std::to_string(partition) + " offset " +
             std::to_string(offset) + " was dropped without a reply");
      c->complete(partition, offset, epoch);
    }
  }
};

}  // namespace

void bus_core::consume_loop() {
  while (!stopping) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      on_record(m);
    else
      log_once(std::string("consuming commands: ") + rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
  }
  // Replies already handed to the producer are delivered first, so their offsets are stored
  // and committed by the close below: a clean stop leaves no answered command to redeliver.
  rd_kafka_flush(producer.get(), 2000);
  // Leaving the group (rather than waiting for the session to expire) lets the others take
  // our partitions at once; the revoke runs our rebalance callback and commits stored offsets.
  if (const rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer.get()); err)
    log(std::string("leaving the group: ") + rd_kafka_err2str(err));
  bool report = false;
  {
    std::lock_guard<std::mutex> lock(owned_mu);
    owned.clear();
    report = reported_nonempty;
    reported_nonempty = false;
  }
  if (report && on_assignment) on_assignment({});
}

void bus_core::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t* parts) {
  // Cooperative assignors are not ours (we set range), but a property may choose one; the
  // incremental calls keep the consumer consistent either way.
  const bool cooperative = std::string(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
  const bool assigning = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
  rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (cooperative) {
    rd_kafka_error_t* e = assigning ? rd_kafka_incremental_assign(rk, parts)
                                    : rd_kafka_incremental_unassign(rk, parts);
    if (e != nullptr) {
      log(std::string("rebalance: ") + rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  } else {
    aerr = rd_kafka_assign(rk, assigning ? parts : nullptr);
  }
  if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) log(std::string("rebalance: ") + rd_kafka_err2str(aerr));
  if (err != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    log(std::string("rebalance error: ") + rd_kafka_err2str(err));

  // The owned set is whatever the consumer holds now, whichever protocol ran.
  std::vector<int> now;
  rd_kafka_topic_partition_list_t* current = nullptr;
  if (rd_kafka_assignment(rk, &current) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < current->cnt; ++i)
      if (opt.commands_topic == current->elems[i].topic) now.push_back(current->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(current);
  }
  std::sort(now.begin(), now.end());
  {
    // In-flight commands of a partition we lost no longer store offsets (a later owner gets
    // them again); a partition we (re)gain starts a fresh answered-prefix under a new epoch.
    std::lock_guard<std::mutex> lock(progress_mu);
    for (auto it = progress_of.begin(); it != progress_of.end();)
      it = std::binary_search(now.begin(), now.end(), it->first) ? std::next(it)
                                                                 : progress_of.erase(it);
    if (assigning) {
      const std::uint64_t epoch = next_epoch++;
      for (int i = 0; i < parts->cnt; ++i)
        if (opt.commands_topic == parts->elems[i].topic)
          progress_of[parts->elems[i].partition] = progress{epoch, {}};
    }
  }
  {
    std::lock_guard<std::mutex> lock(owned_mu);
    owned = now;
    reported_nonempty = !now.empty();
  }
  if (assigning) joined = true;
  if (on_assignment) on_assignment(now);
}

void bus_core::complete(int partition, std::int64_t offset, std::uint64_t epoch) {
  std::lock_guard<std::mutex> lock(progress_mu);
  auto it = progress_of.find(partition);
  if (it == progress_of.end() || it->second.epoch != epoch) return;  // lost since
  auto& pending = it->second.pending;
  if (auto p = pending.find(offset); p != pending.end()) p->second = true;
  std::int64_t next = -1;
  while (!pending.empty() && pending.begin()->second) {
    next = pending.begin()->first + 1;
    pending.erase(pending.begin());
  }
  if (next < 0) return;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, opt.commands_topic.c_str(), partition)->offset = next;
  // Fails only when the partition was revoked meanwhile; its next owner re-reads from the
  // last commit, which is what at-least-once means.
  rd_kafka_offsets_store(consumer.get(), list);
  rd_kafka_topic_partition_list_destroy(list);
}

void bus_core::on_record(const rd_kafka_message_t* m) {
  const int partition = m->partition;
  const std::int64_t offset = m->offset;
  std::uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(progress_mu);
    auto it = progress_of.find(partition);
    if (it == progress_of.end()) return;  // not (or no longer) ours
    epoch = it->second.epoch;
    it->second.pending.emplace(offset, false);
  }
  std::string request_id, reply_to;
  if (!header_value(m, request_id_header, request_id) || request_id.empty() ||
      !header_value(m, reply_to_header, reply_to) || reply_to.empty()) {
    log("skipping malformed command at partition " + std::to_string(partition) + " offset " +
        std::to_string(offset) + ": no " + request_id_header + " or " + reply_to_header +
        " header");
    complete(partition, offset, epoch);
    return;
  }
  if (known_reply_topics.insert(reply_to).second) {
    // Once per requester: its reply topic's metadata now (one round trip), rather than at
    // the producer's next topic scan, up to a second after the first reply is queued.
    std::string ignored;
    partition_count_of(producer.get(), reply_to, ignored);
  }
  if (std::int64_t us = 0; timing_counters::transit_of(m, us))
    timing_counters::add(timing.commands, timing.command_transit_us, us);
  auto state = std::make_shared<reply_state>();
  state->consumed = steady::now();
  state->reply_to = std::move(reply_to);
  state->request_id = std::move(request_id);
  state->partition = partition;
  state->offset = offset;
  state->epoch = epoch;
  state->core = weak_from_this();
  command_bus::reply_fn reply = [state](std::string body) {
    if (state->replied.exchange(true)) return;  // exactly once: later calls are ignored
    if (auto c = state->core.lock()) {
      timing_counters::add(
          c->timing.executed, c->timing.execute_us,
          std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - state->consumed)
              .count());
      c->produce_reply(state->reply_to, state->request_id, std::move(body), state->partition,
                       state->offset, state->epoch);
    }
  };
  std::string body;
  if (m->payload != nullptr) body.assign(static_cast<const char*>(m->payload), m->len);
  try {
    on_command(partition, std::move(body), std::move(reply));
  } catch (const std::exception& e) {
    // The dropped reply function releases the offset; the caller times out.
    log("command handler threw: " + std::string(e.what()));
  } catch (...) {
    log("command handler threw");
  }
}

}  // namespace certctl::kafka::detail
