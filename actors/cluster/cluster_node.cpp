#include "actors/cluster/cluster_node.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "actors/cluster/command_codec.hpp"
#include "actors/cluster/partitioning.hpp"
#include "domain/aggregate.hpp"
#include "domain/rules.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::cluster {
namespace {

using domain::domain_errc;
using domain::domain_error;

constexpr std::chrono::milliseconds settle_time{300};

std::string singleton_key(const std::string& name) {
  return "singleton:" + name;
}

}  // namespace

struct cluster_node::impl {
  impl(actors::entity_runtime& rt, const infra::clock& c, node_options o, node_registry& reg)
      : runtime(rt), clock(c), opts(std::move(o)), registry(reg) {}

  actors::entity_runtime& runtime;
  const infra::clock& clock;
  node_options opts;
  node_registry& registry;
  events::timestamp_us started_at = 0;

  std::vector<singleton> singletons;  // fixed after start()
  std::vector<bool> running;          // control thread only
  std::function<void()> first_join;   // control thread only once started

  // Ownership, read on every command.
  mutable std::shared_mutex own_mu;
  int partitions = 0;
  std::vector<char> owned;
  bool joined = false;

  mutable std::mutex bus_mu;
  std::shared_ptr<kafka::command_bus> bus;
  std::string last_error;  // guarded by bus_mu

  std::mutex ctl_mu;
  std::condition_variable ctl_cv;
  bool stopping = false;
  bool assignment_changed = false;
  std::thread control;

  std::atomic<std::uint64_t> forwarded{0}, received{0}, rejected{0};
  mutable std::mutex by_kind_mu;
  std::map<std::string, std::uint64_t> forwarded_by_kind;  ///< guarded by by_kind_mu

  void count_forward(const std::string& kind, const domain::command& cmd) {
    ++forwarded;
    std::lock_guard<std::mutex> lock(by_kind_mu);
    ++forwarded_by_kind[kind == actors::workflow_kind ? "workflow:" + cmd.name : kind];
  }

  void log(const std::string& line) const {
    if (opts.log_to_stderr) std::cerr << "certctl cluster: " << line << std::endl;
  }

  bool owns_partition(int p) const {
    std::shared_lock<std::shared_mutex> lock(own_mu);
    return p >= 0 && p < static_cast<int>(owned.size()) && owned[static_cast<size_t>(p)] != 0;
  }

  int partition_count() const {
    std::shared_lock<std::shared_mutex> lock(own_mu);
    return partitions;
  }

  std::shared_ptr<kafka::command_bus> current_bus() const {
    std::lock_guard<std::mutex> lock(bus_mu);
    return bus;
  }

  // ---- bus callbacks (consumer thread: never block) -------------------------------------

  void on_command(int partition, std::string body, kafka::command_bus::reply_fn reply) {
    auto decoded = decode_command(body);
    if (!decoded) {
      ++rejected;
      log("rejected a record on partition " + std::to_string(partition) + ": " + decoded.error());
      reply(encode_result(
          domain_error{domain_errc::invalid, "malformed command: " + decoded.error()}));
      return;
    }
    ++received;
    runtime.submit_local(decoded->kind, std::move(decoded->cmd),
                         [reply](actors::command_result r) { reply(encode_result(r)); });
  }

  void on_assignment(const std::vector<int>& now_owned) {
    {
      std::unique_lock<std::shared_mutex> lock(own_mu);
      std::fill(owned.begin(), owned.end(), 0);
      for (int p : now_owned)
        if (p >= 0 && p < static_cast<int>(owned.size())) owned[static_cast<size_t>(p)] = 1;
      joined = true;
    }
    {
      std::lock_guard<std::mutex> lock(ctl_mu);
      assignment_changed = true;
    }
    ctl_cv.notify_all();
  }

  // ---- control thread -------------------------------------------------------------------

  bool connect() {
    auto made = kafka::command_bus::create(
        opts.bus,
        [this](int p, std::string body, kafka::command_bus::reply_fn reply) {
          on_command(p, std::move(body), std::move(reply));
        },
        [this](const std::vector<int>& o) { on_assignment(o); });
    std::string error;
    if (made) {
      std::shared_ptr<kafka::command_bus> b(std::move(made).value());
      // Sized before the consumer starts, so the first assignment finds the table ready.
      // Short attempts: the control thread also has to notice stop() promptly.
      auto started = b->start(std::chrono::seconds(3));
      if (started) {
        {
          std::unique_lock<std::shared_mutex> lock(own_mu);
          partitions = b->partitions();
          owned.assign(static_cast<size_t>(std::max(partitions, 0)), 0);
        }
        std::lock_guard<std::mutex> lock(bus_mu);
        bus = std::move(b);
        last_error.clear();
        log("connected; commands topic " + opts.bus.commands_topic + " has " +
            std::to_string(partitions) + " partitions");
        return true;
      }
      error = started.error().message;
    } else {
      error = made.error().message;
    }
    std::lock_guard<std::mutex> lock(bus_mu);
    if (error != last_error) log("cannot join the cluster yet: " + error);
    last_error = error;
    return false;
  }

  void apply_assignment() {
    const int p_count = partition_count();
    if (p_count == 0) return;
    // Lost partitions first: their entities go, so a command that arrives here later through
    // the bus recovers from the store instead of trusting old state.
    runtime.release_where([this, p_count](const std::string& stream) {
      return !owns_partition(partition_of(domain::affinity_key(stream), p_count));
    });
    for (size_t i = 0; i < singletons.size(); ++i) {
      const bool mine = owns_partition(partition_of(singleton_key(singletons[i].name), p_count));
      if (mine == running[i]) continue;
      log((mine ? "starting " : "stopping ") + singletons[i].name);
      if (mine)
        singletons[i].start();
      else
        singletons[i].stop();
      running[i] = mine;
    }
    if (first_join) {
      auto fn = std::move(first_join);
      first_join = nullptr;
      fn();
    }
  }

  void write_heartbeat() {
    node_record self;
    self.node_id = opts.bus.node_id;
    self.api_url = opts.api_url;
    self.started_at = started_at;
    self.heartbeat_at = clock.now();
    {
      std::shared_lock<std::shared_mutex> lock(own_mu);
      self.joined = joined;
      for (size_t p = 0; p < owned.size(); ++p)
        if (owned[p]) self.partitions.push_back(static_cast<int>(p));
    }
    if (auto b = current_bus()) {
      std::int64_t total = 0;
      for (const auto& l : b->lag()) total += std::max<std::int64_t>(l.lag(), 0);
      self.lag = total;
    }
    if (auto r = registry.heartbeat(self); !r) log("heartbeat not written: " + r.error().message);
  }

  void run() {
    auto backoff = std::chrono::milliseconds(250);
    for (;;) {
      bool connected = current_bus() != nullptr;
      if (!connected) {
        connected = connect();
        backoff = connected ? std::chrono::milliseconds(250)
                            : std::min(backoff * 2, opts.max_connect_backoff);
      }
      bool changed = false;
      {
        std::unique_lock<std::mutex> lock(ctl_mu);
        ctl_cv.wait_for(lock, connected ? opts.heartbeat_interval : backoff,
                        [this] { return stopping || assignment_changed; });
        if (!stopping && assignment_changed) {
          // An eager rebalance reports "nothing" and then the new set; letting it settle
          // keeps singletons that stay here from being stopped and started in between.
          ctl_cv.wait_for(lock, settle_time, [this] { return stopping; });
        }
        if (stopping) break;
        changed = assignment_changed;
        assignment_changed = false;
      }
      if (changed) apply_assignment();
      write_heartbeat();
    }
    for (size_t i = 0; i < singletons.size(); ++i) {
      if (!running[i]) continue;
      log("stopping " + singletons[i].name);
      singletons[i].stop();
      running[i] = false;
    }
    std::shared_ptr<kafka::command_bus> b;
    {
      std::lock_guard<std::mutex> lock(bus_mu);
      b = std::move(bus);
    }
    if (b) b->stop();  // leaves the group: the others take the partitions over at once
    {
      std::unique_lock<std::shared_mutex> lock(own_mu);
      std::fill(owned.begin(), owned.end(), 0);
      joined = false;
    }
    write_heartbeat();
  }
};

cluster_node::cluster_node(actors::entity_runtime& runtime, std::shared_ptr<sql::database> db,
                           const infra::clock& clock, node_options options)
    : registry_(std::move(db)),
      impl_(std::make_unique<impl>(runtime, clock, std::move(options), registry_)) {}

cluster_node::~cluster_node() {
  stop();
}

void cluster_node::add_singleton(singleton s) {
  impl_->singletons.push_back(std::move(s));
  impl_->running.push_back(false);
}

void cluster_node::on_first_join(std::function<void()> fn) {
  impl_->first_join = std::move(fn);
}

result<done, std::string> cluster_node::start() {
  if (impl_->control.joinable()) return done{};
  if (auto r = registry_.ensure_table(); !r) return "cluster registry: " + r.error().message;
  impl_->started_at = impl_->clock.now();
  impl_->runtime.set_router(this);
  impl_->control = std::thread([this] { impl_->run(); });
  return done{};
}

void cluster_node::stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->ctl_mu);
    impl_->stopping = true;
  }
  impl_->ctl_cv.notify_all();
  if (impl_->control.joinable()) impl_->control.join();
}

const node_options& cluster_node::options() const {
  return impl_->opts;
}

bool cluster_node::ready() const {
  std::shared_lock<std::shared_mutex> lock(impl_->own_mu);
  return impl_->joined;
}

node_status cluster_node::status() const {
  node_status s;
  s.node_id = impl_->opts.bus.node_id;
  {
    std::shared_lock<std::shared_mutex> lock(impl_->own_mu);
    s.joined = impl_->joined;
    s.partitions = impl_->partitions;
    for (size_t p = 0; p < impl_->owned.size(); ++p)
      if (impl_->owned[p]) s.owned.push_back(static_cast<int>(p));
  }
  {
    std::lock_guard<std::mutex> lock(impl_->bus_mu);
    s.last_error = impl_->last_error;
  }
  if (auto b = impl_->current_bus()) {
    s.lag = b->lag();
    s.timing = b->timing();
  }
  for (const auto& one : impl_->singletons) {
    singleton_status st;
    st.name = one.name;
    st.partition = s.partitions > 0 ? partition_of(singleton_key(one.name), s.partitions) : -1;
    st.running_here = std::find(s.owned.begin(), s.owned.end(), st.partition) != s.owned.end();
    s.singletons.push_back(std::move(st));
  }
  s.forwarded = impl_->forwarded.load();
  {
    std::lock_guard<std::mutex> lock(impl_->by_kind_mu);
    s.forwarded_by_kind = impl_->forwarded_by_kind;
  }
  // The REST gateway's workflow name (gateways/rest/certificate_workflows.hpp).
  s.certificate_requests = impl_->runtime.workflows_started("certificate.create");
  s.received = impl_->received.load();
  s.rejected = impl_->rejected.load();
  return s;
}

bool cluster_node::is_local(const std::string& stream_id) const {
  const int p_count = impl_->partition_count();
  return p_count > 0 &&
         impl_->owns_partition(partition_of(domain::affinity_key(stream_id), p_count));
}

void cluster_node::forward(const std::string& kind, domain::command cmd,
                           actors::command_callback done) {
  auto b = impl_->current_bus();
  const int p_count = impl_->partition_count();
  if (!b || p_count == 0) {
    done(domain_error{domain_errc::unavailable, "cluster not ready: not connected to Kafka"});
    return;
  }
  // Every forwarded command carries an id, so a redelivery to a new owner is recorded as a
  // duplicate instead of taking effect twice.
  if (cmd.command_id.empty()) cmd.command_id = "fwd-" + crypto::uuid_v4();
  const auto stream = domain::stream_id(kind, cmd.entity_id);
  impl_->count_forward(kind, cmd);
  b->send(partition_of(domain::affinity_key(stream), p_count), stream, encode_command(kind, cmd),
          [done = std::move(done)](kafka::command_bus::send_result r) {
            if (!r) {
              done(domain_error{domain_errc::unavailable,
                                "the entity's owner did not answer: " + r.error().message});
              return;
            }
            done(decode_result(*r));
          });
}

}  // namespace certctl::cluster
