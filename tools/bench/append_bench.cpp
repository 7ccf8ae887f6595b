#include "tools/bench/append_bench.hpp"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "infra/clock.hpp"
#include "tools/audit/cli.hpp"
#include "tools/bench/bench_store.hpp"
#include "tools/bench/latency.hpp"
#include "tools/bench/process_cpu.hpp"

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

struct writer_outcome {
  std::vector<double> latencies_us;
  std::int64_t failures = 0;
  std::string first_error;
};

/// One writer: `count` single-event appends to `stream`, each expecting the version it wrote.
void write_stream(store::event_store& s, const std::string& stream, std::int64_t count,
                  std::atomic<bool>& go, writer_outcome& out) {
  const infra::system_clock clock;
  out.latencies_us.reserve(static_cast<size_t>(count));
  while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
  std::int64_t version = 0;
  for (std::int64_t i = 0; i < count; ++i) {
    store::append_request req;
    req.stream_id = stream;
    req.expected = store::expected_version::exact(version);
    events::proposed_event e;
    e.type = "certificate.renewal_scheduled";
    e.occurred_at = clock.now();
    e.principal = "system:bench";
    e.correlation_id = stream;
    // A payload of the size the server writes for a typical lifecycle event.
    e.payload = "{\"certificate_id\":\"" + stream + "\",\"sequence\":" + std::to_string(i) +
                ",\"not_after\":\"2027-01-01T00:00:00Z\",\"reason\":\"renewal window open\"}";
    req.events.push_back(std::move(e));
    const auto start = steady::now();
    auto r = s.append(std::move(req));
    const auto end = steady::now();
    out.latencies_us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
    if (r) {
      version = r->stream_version;
    } else {
      if (out.failures++ == 0) out.first_error = r.error().message;
    }
  }
}

/// CPU seconds of `pid` and its live children: a PostgreSQL server's postmaster, its backends
/// (the store's connections stay open through the run) and its WAL writer and checkpointer.
std::optional<double> process_tree_cpu_seconds_of(long pid) {
  auto total = process_cpu_seconds_of(pid);
  if (!total) return std::nullopt;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return std::nullopt;
  while (const dirent* entry = readdir(proc)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in("/proc/" + name + "/stat");
    std::string stat;
    if (!in || !std::getline(in, stat)) continue;  // the process ended meanwhile
    // After the parenthesised comm: state, then the parent's pid.
    const auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) continue;
    const long ppid = std::strtol(stat.c_str() + close + 4, nullptr, 10);
    if (ppid != pid) continue;
    if (auto child = process_cpu_seconds_of(std::stol(name))) *total += *child;
  }
  closedir(proc);
  return total;
}

}  // namespace

int run_append(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench append --store URL --streams N --events M [--no-group-commit] [--fresh]",
      "N writer threads append M single events in total, each to its own stream with an exact\n"
      "expected version, against a fresh log. Prints append latency percentiles and the\n"
      "total time; the last line is appends_per_s=<number>.\n\n"
      "SQLite: the file must not exist (or pass --fresh). PostgreSQL: the run owns schema\n"
      "--schema (default bench), created empty; --fresh drops an existing one first.");
  parser.option("store", "URL", "sqlite:///abs/file.db or postgresql://user@host:port/db", true)
      .option("streams", "N", "concurrent writers, one stream each", true)
      .option("events", "M", "total single-event appends", true)
      .flag("no-group-commit", "one transaction per append (the naive baseline)")
      .option("max-batch", "N", "group commit: most appends per transaction (store default 512)")
      .option("batch-wait-us", "US", "group commit: linger for more appends (store default 0)")
      .option("schema", "NAME", "PostgreSQL schema to run in (default bench)")
      .option("server-pid", "PID",
              "also print the CPU per append of PID and its children (the postmaster's pid)")
      .flag("fresh", "delete an existing SQLite file / drop an existing schema first");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  const auto streams = parsed->integer("streams", 1);
  const auto total = parsed->integer("events", 1);
  const auto max_batch = parsed->integer("max-batch", 512);
  const auto wait_us = parsed->integer("batch-wait-us", 0, 0);
  const auto server_pid = parsed->integer("server-pid", 0, 0);
  if (!streams || !total || !max_batch || !wait_us || !server_pid) return cli::exit_usage;

  fresh_store_request req;
  req.url = *parsed->get("store");
  req.pg_schema = parsed->get("schema").value_or("bench");
  req.fresh = parsed->has("fresh");
  req.options.group_commit = !parsed->has("no-group-commit");
  req.options.max_batch = static_cast<size_t>(*max_batch);
  req.options.max_batch_wait_us = *wait_us;
  // Appends per committed batch: how well group commit gathers the writers.
  auto batches = std::make_shared<std::atomic<std::int64_t>>(0);
  req.options.on_batch_committed = [batches](size_t, std::chrono::microseconds) { ++*batches; };
  auto opened = open_fresh_store(req);
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }
  auto& s = **opened;

  const std::int64_t n = *streams;
  std::vector<writer_outcome> outcomes(static_cast<size_t>(n));
  std::vector<std::thread> writers;
  std::atomic<bool> go{false};
  for (std::int64_t w = 0; w < n; ++w) {
    // Spread the remainder so the counts add up to exactly --events.
    const std::int64_t count = *total / n + (w < *total % n ? 1 : 0);
    writers.emplace_back(write_stream, std::ref(s), "certificate-bench-" + std::to_string(w), count,
                         std::ref(go), std::ref(outcomes[static_cast<size_t>(w)]));
  }
  // This process's CPU (writers, the store's writer and checkpoint threads; for PostgreSQL
  // not the server's): less sensitive to a busy box than the rate.
  const auto cpu_before = process_cpu_seconds_of(static_cast<long>(getpid()));
  const auto server_before =
      *server_pid > 0 ? process_tree_cpu_seconds_of(*server_pid) : std::nullopt;
  const auto batches_before = batches->load();
  const auto start = steady::now();
  go.store(true, std::memory_order_release);
  for (auto& t : writers) t.join();
  const double seconds = std::chrono::duration<double>(steady::now() - start).count();
  const auto cpu_after = process_cpu_seconds_of(static_cast<long>(getpid()));
  const auto server_after =
      *server_pid > 0 ? process_tree_cpu_seconds_of(*server_pid) : std::nullopt;
  const auto batch_count = batches->load() - batches_before;

  std::vector<double> all;
  all.reserve(static_cast<size_t>(*total));
  std::int64_t failures = 0;
  std::string first_error;
  for (auto& o : outcomes) {
    all.insert(all.end(), o.latencies_us.begin(), o.latencies_us.end());
    if (o.failures && first_error.empty()) first_error = o.first_error;
    failures += o.failures;
  }
  const auto head = s.head_position();
  const auto summary = summarize(all);

  std::cout << "backend=" << s.backend() << " writers=" << n << " appends=" << *total
            << " group_commit=" << (req.options.group_commit ? "on" : "off")
            << " max_batch=" << req.options.max_batch
            << " batch_wait_us=" << req.options.max_batch_wait_us << "\n";
  std::cout << "append latency " << to_string(summary) << "\n";
  char line[96];
  std::snprintf(line, sizeof line, "total_seconds=%.3f", seconds);
  std::cout << line << "\n";
  if (cpu_before && cpu_after) {
    std::snprintf(line, sizeof line, "process_cpu_us_per_append=%.1f",
                  1e6 * (*cpu_after - *cpu_before) / static_cast<double>(*total));
    std::cout << line << "\n";
  }
  if (server_before && server_after) {
    std::snprintf(line, sizeof line, "server_cpu_us_per_append=%.1f",
                  1e6 * (*server_after - *server_before) / static_cast<double>(*total));
    std::cout << line << "\n";
  }
  if (batch_count > 0) {
    std::snprintf(line, sizeof line, "batches=%lld appends_per_batch=%.1f",
                  static_cast<long long>(batch_count),
                  static_cast<double>(*total) / static_cast<double>(batch_count));
    std::cout << line << "\n";
  }
  std::cout << "log_head=" << (head ? std::to_string(*head) : "?") << " failures=" << failures
            << "\n";
  if (failures)
    std::cerr << "error: " << failures << " appends failed; first: " << first_error << "\n";
  std::snprintf(line, sizeof line, "appends_per_s=%.0f",
                static_cast<double>(*total - failures) / seconds);
  std::cout << line << std::endl;
  return failures ? 1 : 0;
}

}  // namespace certctl::bench
