#include "tools/bench/issue_bench.hpp"

#include <httplib.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "tools/audit/cli.hpp"
#include "tools/bench/latency.hpp"
#include "tools/bench/process_cpu.hpp"

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

struct endpoint {
  std::string url;  ///< scheme://host:port, as httplib::Client takes it
  std::string api_key;
  std::string ca_bundle;
};

/// A keep-alive client: one TLS handshake per thread, not per request.
std::unique_ptr<httplib::Client> connect(const endpoint& e) {
  auto c = std::make_unique<httplib::Client>(e.url);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(10);
  c->set_read_timeout(60);
  if (!e.ca_bundle.empty()) {
    c->set_ca_cert_path(e.ca_bundle.c_str());
    c->enable_server_certificate_verification(true);
  }
  c->set_bearer_token_auth(e.api_key.c_str());
  return c;
}

/// "total" of a certificate list filtered by `status`; -1 (after a message) on failure.
std::int64_t count_with_status(httplib::Client& c, const char* status) {
  auto r = c.Get((std::string("/api/v1/certificates?per_page=1&status=") + status).c_str());
  if (!r || r->status != 200) {
    std::cerr << "error: listing " << status << " certificates: "
              << (r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error()))
              << "\n";
    return -1;
  }
  rapidjson::Document d;
  d.Parse(r->body.c_str());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("total") || !d["total"].IsInt64())
    return -1;
  return d["total"].GetInt64();
}

struct create_outcome {
  std::vector<double> latencies_us;
  std::int64_t failures = 0;
  std::string first_error;
};

/// One client thread: takes indexes from `next` until `count` certificates were attempted.
void create_certificates(const endpoint& e, const std::string& run, std::int64_t count,
                         std::atomic<std::int64_t>& next, std::atomic<std::int64_t>& acked,
                         create_outcome& out) {
  auto c = connect(e);
  for (std::int64_t i = next++; i < count; i = next++) {
    const std::string name = "bench-" + run + "-" + std::to_string(i);
    const std::string body =
        R"({"name":")" + name + R"(","common_name":")" + name +
        R"(.bench.example","sans":[],"renewal_policy_id":"rp-bench",)"
        R"("issuer_id":"iss-local","owner_id":"owner-bench","team_id":"team-bench"})";
    const auto start = steady::now();
    auto r = c->Post("/api/v1/certificates", body, "application/json");
    out.latencies_us.push_back(
        std::chrono::duration<double, std::micro>(steady::now() - start).count());
    if (r && r->status == 201) {
      ++acked;
      continue;
    }
    if (out.failures++ == 0)
      out.first_error =
          r ? std::to_string(r->status) + " " + r->body : httplib::to_string(r.error());
  }
}

/// The comma-separated URLs of --server, without empty entries.
std::vector<std::string> split_servers(const std::string& list) {
  std::vector<std::string> out;
  size_t from = 0;
  for (;;) {
    const size_t comma = list.find(',', from);
    std::string url =
        list.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
    while (!url.empty() && url.back() == ' ') url.pop_back();
    while (!url.empty() && url.front() == ' ') url.erase(0, 1);
    if (!url.empty()) out.push_back(std::move(url));
    if (comma == std::string::npos) return out;
    from = comma + 1;
  }
}

}  // namespace

int run_issue(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench issue --server URL[,URL...] --api-key KEY --ca-bundle FILE --concurrency C "
      "--count N",
      "C keep-alive HTTPS clients create N certificates on a running server (which must run\n"
      "with CERTCTL_KEYGEN_MODE=server), then the run polls the certificate list until all N\n"
      "are Active. Prints create latency percentiles and phase times; the last line is\n"
      "issued_per_s=<number> (N / seconds from the first create to the last Active).\n"
      "Progress (created, Active) goes to standard error once a second.\n"
      "Cluster: with several --server URLs (nodes of one cluster, same API key and CA), client\n"
      "thread t sends to URL number t % n; the Active poll asks the first URL.");
  parser
      .option("server", "URL[,URL...]",
              "https://127.0.0.1:PORT; a comma-separated list spreads the clients", true)
      .option("api-key", "KEY", "an operator or admin API key", true)
      .option("ca-bundle", "FILE", "CA bundle that verifies the server certificate", true)
      .option("concurrency", "C", "client threads, one keep-alive connection each", true)
      .option("count", "N", "certificates to create", true)
      .option("timeout-s", "S", "give up waiting for Active after S seconds (default 600)")
      .option("poll-ms", "MS", "interval of the Active poll (default 10)")
      .option("server-pid", "PID",
              "the server's process id (same machine): prints its CPU per issued certificate");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto concurrency = parsed->integer("concurrency", 1, 1);
  const auto count = parsed->integer("count", 1, 1);
  const auto timeout_s = parsed->integer("timeout-s", 600, 1);
  const auto poll_ms = parsed->integer("poll-ms", 10, 1);
  const auto server_pid = parsed->integer("server-pid", 0, 0);
  if (!concurrency || !count || !timeout_s || !poll_ms || !server_pid) return cli::exit_usage;
  const std::string server_list = *parsed->get("server");
  std::vector<endpoint> endpoints;
  for (auto& url : split_servers(server_list))
    endpoints.push_back({std::move(url), *parsed->get("api-key"), *parsed->get("ca-bundle")});
  if (endpoints.empty()) {
    std::cerr << "error: --server names no URL\n";
    return cli::exit_usage;
  }

  auto monitor = connect(endpoints.front());
  const std::int64_t active_before = count_with_status(*monitor, "Active");
  const std::int64_t failed_before = count_with_status(*monitor, "Failed");
  if (active_before < 0 || failed_before < 0) return cli::exit_usage;
  std::random_device rd;
  const std::string run = std::to_string(rd() % 1000000);

  std::atomic<std::int64_t> next{0}, acked{0};
  std::vector<create_outcome> outcomes(static_cast<size_t>(*concurrency));
  std::vector<std::thread> clients;
  const auto cpu_before = *server_pid > 0 ? process_cpu_seconds_of(*server_pid) : std::nullopt;
  const auto start = steady::now();
  for (std::int64_t t = 0; t < *concurrency; ++t)
    clients.emplace_back(create_certificates,
                         std::cref(endpoints[static_cast<size_t>(t) % endpoints.size()]),
                         std::cref(run), *count, std::ref(next), std::ref(acked),
                         std::ref(outcomes[static_cast<size_t>(t)]));

  // Poll while creating too: issuance overlaps creation, and the progress shows which lags.
  std::atomic<bool> creating{true};
  std::thread joiner([&] {
    for (auto& t : clients) t.join();
    creating = false;
  });
  double created_s = 0;
  std::int64_t active = 0, failed = 0;
  auto next_progress = start + std::chrono::seconds(1);
  const auto deadline = start + std::chrono::seconds(*timeout_s);
  // Each count is a list query the server answers from its read model, and the measured
  // server pays for it: two counts every 10 ms took ~13 % of its CPU. So: while creating, when
  // the run cannot end yet, count once a second for the progress line only; afterwards count
  // Active every poll_ms, and Failed (rare) once a second, which delays the end of a run with
  // failures by at most a second but never ends a run early.
  for (;;) {
    const bool still_creating = creating.load();
    if (!still_creating && created_s == 0) created_s = seconds_since(start);
    const bool tick = steady::now() >= next_progress;
    if (!still_creating || tick) active = count_with_status(*monitor, "Active") - active_before;
    if (tick) failed = count_with_status(*monitor, "Failed") - failed_before;
    if (!still_creating && active + failed >= acked.load()) break;
    if (steady::now() > deadline) break;
    if (tick) {
      std::cerr << "t=" << static_cast<int>(seconds_since(start)) << "s created=" << acked.load()
                << " active=" << active << " failed=" << failed << "\n";
      next_progress += std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(*poll_ms));
  }
  const double total_s = seconds_since(start);
  const auto cpu_after = *server_pid > 0 ? process_cpu_seconds_of(*server_pid) : std::nullopt;
  joiner.join();
  failed = count_with_status(*monitor, "Failed") - failed_before;  // exact, for the report

  std::vector<double> all;
  std::int64_t failures = 0;
  std::string first_error;
  for (auto& o : outcomes) {
    all.insert(all.end(), o.latencies_us.begin(), o.latencies_us.end());
    if (o.failures && first_error.empty()) first_error = o.first_error;
    failures += o.failures;
  }
  const auto summary = summarize(all);
  char line[160];
  std::cout << "server=" << server_list << " concurrency=" << *concurrency << " count=" << *count
            << "\n";
  std::snprintf(line, sizeof line,
                "created=%lld create_failures=%lld create_seconds=%.3f creates_per_s=%.0f",
                static_cast<long long>(acked.load()), static_cast<long long>(failures), created_s,
                static_cast<double>(acked.load()) / created_s);
  std::cout << line << "\n";
  std::cout << "create latency " << to_string(summary) << "\n";
  std::snprintf(line, sizeof line, "active=%lld failed=%lld total_seconds=%.3f",
                static_cast<long long>(active), static_cast<long long>(failed), total_s);
  std::cout << line << "\n";
  if (cpu_before && cpu_after && active > 0) {
    const double cpu_s = *cpu_after - *cpu_before;
    std::snprintf(line, sizeof line, "server_cpu_s=%.2f server_cpu_ms_per_cert=%.3f", cpu_s,
                  1000.0 * cpu_s / static_cast<double>(active));
    std::cout << line << "\n";
  } else if (*server_pid > 0) {
    std::cerr << "warning: cannot read /proc/" << *server_pid << "/stat\n";
  }
  if (failures)
    std::cerr << "error: " << failures << " creations failed; first: " << first_error << "\n";
  const bool complete = failures == 0 && failed == 0 && active >= *count;
  if (!complete)
    std::cerr << "error: only " << active << " of " << *count << " certificates became Active\n";
  std::snprintf(line, sizeof line, "issued_per_s=%.1f", static_cast<double>(active) / total_s);
  std::cout << line << std::endl;
  return complete ? 0 : 1;
}

}  // namespace certctl::bench
