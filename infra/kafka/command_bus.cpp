// The command bus facade: option checks, client creation, start/stop and the read-only
// queries. The commands consumer lives in command_bus_consumer.cpp, the producer and the reply
// side in command_bus_reply.cpp.
#include "infra/kafka/command_bus.hpp"

#include <algorithm>
#include <iostream>
#include <string_view>

#include "infra/kafka/detail/command_bus_impl.hpp"

namespace certctl::kafka {

namespace detail {

void bus_core::log(const std::string& line) {
  if (opt.log_to_stderr) std::cerr << "kafka command bus " << opt.node_id << ": " << line << "\n";
}

void bus_core::log_once(const std::string& line) {
  {
    std::lock_guard<std::mutex> lock(log_mu);
    if (last_logged == line) return;
    last_logged = line;
  }
  log(line);
}

void bus_log_cb(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  // Warnings and worse (syslog levels <= 4) only; the rest is librdkafka's debug chatter.
  auto* core = static_cast<bus_core*>(rd_kafka_opaque(rk));
  // AUTOCREATE only says a broker older than 0.11 (as librdkafka's mock cluster claims to be)
  // ignores allow.auto.create.topics; it repeats at every rebalance and changes nothing.
  if (std::string_view(fac) == "AUTOCREATE") return;
  if (core != nullptr && level <= 4)
    core->log(std::string("librdkafka ") + rd_kafka_name(rk) + " " + fac + ": " + buf);
}

void bus_error_cb(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* core = static_cast<bus_core*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    // Only the idempotent producer has fatal errors; every later produce fails with it, so
    // sends fail fast and replies are lost (the caller times out).
    char text[512];
    rd_kafka_fatal_error(rk, text, sizeof(text));
    core->log(std::string("fatal producer error: ") + text);
    return;
  }
  // Transport errors are what an outage looks like; librdkafka retries by itself.
  core->log_once(std::string(rd_kafka_name(rk)) + ": " + reason + " (retrying)");
}

bool header_value(const rd_kafka_message_t* m, const char* name, std::string& out) {
  rd_kafka_headers_t* headers = nullptr;
  // rd_kafka_message_headers wants a non-const message; it only parses them lazily.
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(m), &headers) !=
      RD_KAFKA_RESP_ERR_NO_ERROR)
    return false;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr)
    return false;
  out.assign(static_cast<const char*>(value), size);
  return true;
}

bool timing_counters::transit_of(const rd_kafka_message_t* m, std::int64_t& us) {
  std::string sent;
  if (!header_value(m, sent_at_header, sent) || sent.empty() || sent.size() > 18) return false;
  std::int64_t at = 0;
  for (char ch : sent) {
    if (ch < '0' || ch > '9') return false;  // not ours: ignored, never fatal
    at = at * 10 + (ch - '0');
  }
  us = wall_us() - at;
  return true;
}

}  // namespace detail

namespace {

void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
                  void* opaque) {
  static_cast<detail::bus_core*>(opaque)->on_rebalance(rk, err, parts);
}

void delivery_cb(rd_kafka_t* rk, const rd_kafka_message_t* m, void*) {
  static_cast<detail::bus_core*>(rd_kafka_opaque(rk))->on_delivery(m);
}

using props = std::vector<kafka_property>;

result<detail::handle_ptr, kafka_error> make_client(detail::bus_core& core, rd_kafka_type_t type,
                                                    props defaults, const char* role) {
  defaults.insert(defaults.end(), core.opt.properties.begin(), core.opt.properties.end());
  auto conf = detail::make_conf(defaults);
  if (!conf) return conf.error();
  rd_kafka_conf_set_opaque(conf->get(), &core);
  rd_kafka_conf_set_log_cb(conf->get(), detail::bus_log_cb);
  rd_kafka_conf_set_error_cb(conf->get(), detail::bus_error_cb);
  if (type == RD_KAFKA_PRODUCER) rd_kafka_conf_set_dr_msg_cb(conf->get(), delivery_cb);
  if (std::string(role) == "commands") rd_kafka_conf_set_rebalance_cb(conf->get(), rebalance_cb);
  auto rk = detail::make_handle(type, std::move(conf).value());
  if (!rk) return kafka_error{std::string("command bus ") + role + ": " + rk.error().message};
  // Errors, logs and rebalances of a consumer then arrive through rd_kafka_consumer_poll.
  if (type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk->get());
  return rk;
}

}  // namespace

command_bus::command_bus(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

command_bus::~command_bus() {
  stop();
}

result<std::unique_ptr<command_bus>, kafka_error> command_bus::create(
    command_bus_options options, command_handler on_command, assignment_handler on_assignment) {
  if (options.bootstrap_servers.empty()) return kafka_error{"command bus: no bootstrap servers"};
  if (options.node_id.empty()) return kafka_error{"command bus: empty node id"};
  if (options.commands_topic.empty() || options.group_id.empty() ||
      options.reply_topic_prefix.empty())
    return kafka_error{"command bus: empty commands topic, group id or reply topic prefix"};
  if (options.request_timeout.count() <= 0 || options.session_timeout.count() <= 0 ||
      options.fetch_wait.count() <= 0)
    return kafka_error{"command bus: request and session timeouts and fetch wait must be positive"};
  if (!on_command) return kafka_error{"command bus: no command handler"};

  auto core = std::make_shared<detail::bus_core>();
  core->opt = std::move(options);
  core->on_command = std::move(on_command);
  core->on_assignment = std::move(on_assignment);
  core->reply_topic = core->opt.reply_topic_prefix + core->opt.node_id;
  const auto& o = core->opt;
  const std::string session = std::to_string(o.session_timeout.count());
  // Members learn of a rebalance (a node joining or leaving cleanly) at their next heartbeat,
  // so at most a second, however long the session timeout: joins then take about a second
  // plus the coordinator's own delay instead of a third of the session timeout.
  const std::string heartbeat = std::to_string(
      std::max<long long>(1, std::min<long long>(1000, o.session_timeout.count() / 3)));

  // Latency over throughput: commands and replies are small and someone waits for each, so
  // they leave at once (no linger; under load, records queued behind an in-flight request
  // still share the next one) and without Nagle's delay. The event relay has its own
  // producer and keeps batching. A forwarded command is two hops (command, reply), each a
  // produce and a fetch; docs/cluster.md "Forward timing" has the measured split.
  const std::string fetch_wait = std::to_string(o.fetch_wait.count());
  auto producer = make_client(*core, RD_KAFKA_PRODUCER,
                              {{"bootstrap.servers", o.bootstrap_servers},
                               {"client.id", o.node_id},
                               {"enable.idempotence", "true"},
                               {"acks", "all"},
                               {"linger.ms", "0"},
                               {"socket.nagle.disable", "true"},
                               // Undelivered after the request timeout, nobody waits any more.
                               {"message.timeout.ms", std::to_string(o.request_timeout.count())}},
                              "producer");
  if (!producer) return producer.error();
  core->producer = std::move(producer).value();

  auto consumer =
      make_client(*core, RD_KAFKA_CONSUMER,
                  {{"bootstrap.servers", o.bootstrap_servers},
                   {"client.id", o.node_id},
                   {"group.id", o.group_id},
                   // Eager: on a rebalance every member gives everything up before the new
                   // assignment, so two nodes never own a partition at the same time.
                   {"partition.assignment.strategy", "range"},
                   {"session.timeout.ms", session},
                   {"heartbeat.interval.ms", heartbeat},
                   {"enable.auto.commit", "true"},
                   {"auto.commit.interval.ms", "1000"},
                   // Stored by hand once a command is answered: at-least-once.
                   {"enable.auto.offset.store", "false"},
                   // A partition without a committed offset starts at its beginning, so a
                   // command produced before its first owner joined is not lost.
                   {"auto.offset.reset", "earliest"},
                   {"enable.partition.eof", "false"},
                   {"allow.auto.create.topics", "false"},
                   {"socket.nagle.disable", "true"},
                   {"fetch.wait.max.ms", fetch_wait}},
                  "commands");
  if (!consumer) return consumer.error();
  core->consumer = std::move(consumer).value();

  auto replies = make_client(*core, RD_KAFKA_CONSUMER,
                             {{"bootstrap.servers", o.bootstrap_servers},
                              {"client.id", o.node_id},
                              // Required by the consumer API; assign() never joins it.
                              {"group.id", o.group_id + ".replies." + o.node_id},
                              {"enable.auto.commit", "false"},
                              {"enable.partition.eof", "false"},
                              {"allow.auto.create.topics", "true"},
                              {"socket.nagle.disable", "true"},
                              {"fetch.wait.max.ms", fetch_wait}},
                             "replies");
  if (!replies) return replies.error();
  core->replies = std::move(replies).value();

  auto p = std::make_unique<impl>();
  p->core = std::move(core);
  return std::unique_ptr<command_bus>(new command_bus(std::move(p)));
}

result<done, kafka_error> command_bus::start(std::chrono::milliseconds metadata_timeout) {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  auto& c = *impl_->core;
  if (c.started) return done{};
  if (c.stopping) return kafka_error{"command bus: stopped; create a new one"};
  const auto deadline = std::chrono::steady_clock::now() + metadata_timeout;

  std::string error = "not found";
  int n = 0;
  // Asked through the producer: librdkafka looks up a topic first produced to only at its
  // next 1 s topic scan, which would delay the first send by up to a second.
  while ((n = detail::partition_count_of(c.producer.get(), c.opt.commands_topic, error,
                                         detail::ms_until(deadline, 2000))) == 0) {
    if (std::chrono::steady_clock::now() >= deadline)
      return kafka_error{"command bus: topic " + c.opt.commands_topic + ": " + error};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  c.partition_count = n;
  if (auto opened = c.open_reply_topic(deadline); !opened) return opened.error();

  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, c.opt.commands_topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t err = rd_kafka_subscribe(c.consumer.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return kafka_error{"command bus: subscribing to " + c.opt.commands_topic + ": " +
                       rd_kafka_err2str(err)};

  c.started = true;
  c.producer_thread = std::thread([&c] { c.producer_loop(); });
  c.reply_thread = std::thread([&c] { c.reply_loop(); });
  c.consumer_thread = std::thread([&c] { c.consume_loop(); });
  return done{};
}

void command_bus::stop() {
  std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
  auto& c = *impl_->core;
  if (c.stopping.exchange(true) || !c.started) return;
  // The consumer thread leaves the group first, so the others rebalance while we finish.
  if (c.consumer_thread.joinable()) c.consumer_thread.join();
  if (c.producer_thread.joinable()) c.producer_thread.join();  // flushes queued replies
  if (c.reply_thread.joinable()) c.reply_thread.join();
  c.fail_all_pending("command bus stopped before the reply arrived");
}

int command_bus::partitions() const {
  return impl_->core->partition_count;
}

std::vector<int> command_bus::owned() const {
  std::lock_guard<std::mutex> lock(impl_->core->owned_mu);
  return impl_->core->owned;
}

bool command_bus::joined() const {
  return impl_->core->joined;
}

void command_bus::send(int partition, const std::string& routing_key, std::string body,
                       std::function<void(send_result)> done) {
  impl_->core->send(partition, routing_key, std::move(body), std::move(done));
}

bus_timing command_bus::timing() const {
  const auto& t = impl_->core->timing;
  bus_timing out;
  out.round_trips = t.round_trips;
  out.round_trip_us = t.round_trip_us;
  out.command_acks = t.command_acks;
  out.command_ack_us = t.command_ack_us;
  out.replies = t.replies;
  out.reply_transit_us = t.reply_transit_us;
  out.commands = t.commands;
  out.command_transit_us = t.command_transit_us;
  out.executed = t.executed;
  out.execute_us = t.execute_us;
  return out;
}

std::vector<partition_lag> command_bus::lag() const {
  auto& c = *impl_->core;
  const auto mine = owned();
  std::vector<partition_lag> out;
  if (mine.empty()) return out;
  const char* topic = c.opt.commands_topic.c_str();
  rd_kafka_t* rk = c.consumer.get();
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(mine.size()));
  for (int p : mine) rd_kafka_topic_partition_list_add(list, topic, p);
  rd_kafka_position(rk, list);
  // Nothing consumed yet since the assignment: the committed offset is where reading starts.
  bool unknown = false;
  for (int i = 0; i < list->cnt; ++i) unknown |= list->elems[i].offset < 0;
  rd_kafka_topic_partition_list_t* committed = nullptr;
  if (unknown) {
    committed = rd_kafka_topic_partition_list_copy(list);
    if (rd_kafka_committed(rk, committed, 1000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(committed);
      committed = nullptr;
    }
  }
  for (int i = 0; i < list->cnt; ++i) {
    partition_lag l;
    l.partition = list->elems[i].partition;
    l.position = list->elems[i].offset;
    if (l.position < 0 && committed != nullptr && committed->elems[i].err == 0)
      l.position = committed->elems[i].offset;
    if (l.position < 0) l.position = -1;
    int64_t low = -1, high = -1;
    // The cached watermark comes with every fetch response; ask the broker only when absent.
    if (rd_kafka_get_watermark_offsets(rk, topic, l.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
      if (rd_kafka_query_watermark_offsets(rk, topic, l.partition, &low, &high, 1000) !=
          RD_KAFKA_RESP_ERR_NO_ERROR)
        high = -1;
    l.high_watermark = high < 0 ? -1 : high;
    out.push_back(l);
  }
  if (committed != nullptr) rd_kafka_topic_partition_list_destroy(committed);
  rd_kafka_topic_partition_list_destroy(list);
  return out;
}

}  // namespace certctl::kafka
