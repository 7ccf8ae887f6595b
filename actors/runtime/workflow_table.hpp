#pragma once
/// PRIVATE to actors/runtime: the registered workflows of entity_runtime (workflow_kind) and
/// the threads that run the ones delivered asynchronously (from another node, or submitted),
/// so a workflow never blocks an actor thread or the cluster's consumer thread.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"

namespace certctl::actors {

class workflow_table {
 public:
  explicit workflow_table(size_t threads = 8) : thread_count_(threads) {}
  ~workflow_table();
  workflow_table(const workflow_table&) = delete;
  workflow_table& operator=(const workflow_table&) = delete;

  void add(const std::string& name, workflow_fn fn);
  /// Counts one start of `cmd.name` on this node.
  void count_start(const std::string& name);
  std::uint64_t started(const std::string& name) const;

  /// Runs `cmd` on the calling thread.
  command_result run(const domain::command& cmd) const;
  /// Runs `cmd` on a workflow thread; `done` is called there.
  void run_async(domain::command cmd, command_callback done);

 private:
  struct entry {
    workflow_fn fn;
    std::shared_ptr<std::atomic<std::uint64_t>> started;
  };
  const entry* find(const std::string& name) const;
  void loop();

  size_t thread_count_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, entry> table_;  ///< guarded by mu_ (adds happen at start-up)
  std::deque<std::pair<domain::command, command_callback>> queue_;
  std::vector<std::thread> threads_;  ///< started with the first asynchronous run
  bool stopping_ = false;
};

}  // namespace certctl::actors
