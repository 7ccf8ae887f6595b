#include "infra/store/memory_store.hpp"

#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

#include "infra/store/batching_store.hpp"

namespace certctl::store {
namespace {

struct memory_log {
  std::shared_mutex mu;
  std::vector<events::recorded_event> events;                          // index = position - 1
  std::unordered_map<std::string, std::vector<std::int64_t>> streams;  // positions per stream
  std::unordered_set<std::string> event_ids;
  std::unordered_map<std::string, snapshot> snapshots;
  std::unordered_map<std::string, command_record> commands;
};

class memory_transaction final : public write_transaction {
 public:
  explicit memory_transaction(memory_log& log) : log_(log) {}

  store_result<log_head> head() override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    if (log_.events.empty()) return log_head{};
    return log_head{log_.events.back().position, log_.events.back().hash};
  }

  store_result<std::map<std::string, std::int64_t>> stream_versions(
      const std::vector<std::string>& ids) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    std::map<std::string, std::int64_t> out;
    for (const auto& id : ids) {
      auto it = log_.streams.find(id);
      if (it != log_.streams.end()) out[id] = static_cast<std::int64_t>(it->second.size());
    }
    return out;
  }

  store_result<std::map<std::string, command_record>> find_commands(
      const std::vector<std::string>& ids) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    std::map<std::string, command_record> out;
    for (const auto& id : ids) {
      auto it = log_.commands.find(id);
      if (it != log_.commands.end()) out[id] = it->second;
    }
    return out;
  }

  store_result<done> insert(const std::vector<events::recorded_event>& rows,
                            const std::vector<command_record>& commands) override {
    std::unordered_set<std::string> ids;
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    for (const auto& e : rows) {
      if (log_.event_ids.count(e.event_id) || !ids.insert(e.event_id).second)
        return store_error{store_errc::invalid_argument,
                           "event id " + e.event_id + " is already in the log"};
    }
    rows_ = &rows;
    commands_ = &commands;
    return done{};
  }

  store_result<done> commit() override {
    if (!rows_) return done{};
    std::unique_lock<std::shared_mutex> lock(log_.mu);
    for (const auto& e : *rows_) {
      log_.streams[e.stream_id].push_back(e.position);
      log_.event_ids.insert(e.event_id);
      log_.events.push_back(e);
    }
    for (const auto& c : *commands_) log_.commands[c.command_id] = c;
    return done{};
  }

 private:
  memory_log& log_;
  const std::vector<events::recorded_event>* rows_ = nullptr;
  const std::vector<command_record>* commands_ = nullptr;
};

class memory_store final : public batching_store {
 public:
  explicit memory_store(const store_options& options) : batching_store(options) { start(); }
  ~memory_store() override { shutdown(); }

  std::string backend() const override { return "memory"; }

  store_result<std::vector<events::recorded_event>> read_stream(const std::string& stream_id,
                                                                std::int64_t from_version,
                                                                size_t max) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    std::vector<events::recorded_event> out;
    auto it = log_.streams.find(stream_id);
    if (it == log_.streams.end()) return out;
    const auto& positions = it->second;
    for (size_t v = from_version < 1 ? 0 : static_cast<size_t>(from_version - 1);
         v < positions.size() && out.size() < max; ++v)
      out.push_back(log_.events[static_cast<size_t>(positions[v] - 1)]);
    return out;
  }

  store_result<std::vector<events::recorded_event>> read_all(std::int64_t from_position,
                                                             size_t max) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    std::vector<events::recorded_event> out;
    for (size_t i = from_position < 1 ? 0 : static_cast<size_t>(from_position - 1);
         i < log_.events.size() && out.size() < max; ++i)
      out.push_back(log_.events[i]);
    return out;
  }

  store_result<std::int64_t> head_position() override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    return static_cast<std::int64_t>(log_.events.size());
  }

  store_result<done> save_snapshot(const snapshot& s) override {
    std::unique_lock<std::shared_mutex> lock(log_.mu);
    auto& slot = log_.snapshots[s.stream_id];
    if (s.stream_version >= slot.stream_version) slot = s;
    return done{};
  }

  store_result<std::optional<snapshot>> load_snapshot(const std::string& stream_id) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    auto it = log_.snapshots.find(stream_id);
    if (it == log_.snapshots.end()) return std::optional<snapshot>{};
    return std::optional<snapshot>{it->second};
  }

  store_result<command_record> record_command(const command_record& rec) override {
    std::unique_lock<std::shared_mutex> lock(log_.mu);
    return log_.commands.emplace(rec.command_id, rec).first->second;
  }

  store_result<std::optional<command_record>> find_command(const std::string& id) override {
    std::shared_lock<std::shared_mutex> lock(log_.mu);
    auto it = log_.commands.find(id);
    if (it == log_.commands.end()) return std::optional<command_record>{};
    return std::optional<command_record>{it->second};
  }

 protected:
  store_result<std::unique_ptr<write_transaction>> begin_write() override {
    return std::unique_ptr<write_transaction>(std::make_unique<memory_transaction>(log_));
  }

 private:
  memory_log log_;
};

}  // namespace

std::unique_ptr<event_store> make_memory_store(const store_options& options) {
  return std::make_unique<memory_store>(options);
}

}  // namespace certctl::store
