#include "actors/runtime/workflow_table.hpp"

namespace certctl::actors {

std::string workflow_entity_id(const std::string& root_stream) {
  return "wf__" + root_stream;
}

workflow_table::~workflow_table() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void workflow_table::add(const std::string& name, workflow_fn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  table_[name] = entry{std::move(fn), std::make_shared<std::atomic<std::uint64_t>>(0)};
}

const workflow_table::entry* workflow_table::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = table_.find(name);
  return it == table_.end() ? nullptr : &it->second;  // entries are never removed
}

void workflow_table::count_start(const std::string& name) {
  if (const entry* e = find(name)) ++*e->started;
}

std::uint64_t workflow_table::started(const std::string& name) const {
  const entry* e = find(name);
  return e == nullptr ? 0 : e->started->load();
}

command_result workflow_table::run(const domain::command& cmd) const {
  const entry* e = find(cmd.name);
  // A node still starting may not have registered it yet: the caller may retry.
  if (e == nullptr)
    return domain::domain_error{domain::domain_errc::unavailable,
                                "workflow " + cmd.name + " is not available on this node"};
  return e->fn(cmd);
}

void workflow_table::run_async(domain::command cmd, command_callback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      done(domain::domain_error{domain::domain_errc::unavailable, "shutting down"});
      return;
    }
    queue_.emplace_back(std::move(cmd), std::move(done));
    if (threads_.empty())
      for (size_t i = 0; i < thread_count_; ++i) threads_.emplace_back([this] { loop(); });
  }
  cv_.notify_one();
}

void workflow_table::loop() {
  for (;;) {
    std::pair<domain::command, command_callback> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to answer
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.second(run(job.first));
  }
}

}  // namespace certctl::actors
