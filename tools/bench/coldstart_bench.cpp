// certctl-bench coldstart: N managed certificates written straight into a server's store, then
// the server started (twice: the first start projects the new events, the second is a restart
// over caught-up read models) with the time to /ready and the resident memory per certificate.
#include "tools/bench/coldstart_bench.hpp"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/signer.hpp"
#include "infra/store/event_store.hpp"
#include "tools/audit/cli.hpp"

extern char** environ;

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;
const char* const api_key = "coldstartkey0123456789abcdef";

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

/// The certificate every loaded version carries (a real leaf and CSR, made once): RSS and
/// disk then see realistic payload sizes; serials and fingerprints are unique per certificate.
struct template_material {
  std::string csr_pem;
  std::string pem_chain;
};

std::optional<template_material> make_template() {
  auto kc =
      crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, "coldstart.bench.example", {});
  if (!kc) return std::nullopt;
  crypto::certificate_template t;
  t.subject = {"coldstart.bench.example", "", ""};
  t.not_before = static_cast<std::int64_t>(std::time(nullptr)) - 60;
  t.not_after = t.not_before + 398 * 86400;
  auto cert = crypto::self_sign(kc->key.pem, t);
  if (!cert) return std::nullopt;
  return template_material{kc->csr_pem, cert.value()};
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else
      out += c;
  }
  return out + "\"";
}

events::proposed_event event(std::string type, std::string payload) {
  events::proposed_event e;
  e.event_id = crypto::uuid_v4();
  e.type = std::move(type);
  e.occurred_at = static_cast<std::int64_t>(std::time(nullptr)) * 1'000'000;
  e.principal = "bench:coldstart";
  e.payload = std::move(payload);
  return e;
}

/// Writes `count` certificates (certificate stream: created + issued; job stream: created,
/// started, completed), `window` appends in flight; false after printing the first error.
bool load(store::event_store& store, size_t count, size_t window, const template_material& m) {
  std::mutex mu;
  std::condition_variable cv;
  size_t in_flight = 0;
  std::string first_error;
  const std::string csr = json_string(m.csr_pem), chain = json_string(m.pem_chain);
  const auto started = steady::now();
  auto submit = [&](store::append_request req) {
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait(l, [&] { return in_flight < window; });
      ++in_flight;
    }
    store.append_async(std::move(req), [&](store::store_result<store::append_result> r) {
      std::lock_guard<std::mutex> l(mu);
      if (!r && first_error.empty()) first_error = r.error().message;
      --in_flight;
      cv.notify_all();
    });
  };
  for (size_t i = 0; i < count; ++i) {
    char id[32], serial[40], fp[80];
    std::snprintf(id, sizeof id, "cs%010zu", i);
    std::snprintf(serial, sizeof serial, "7C%030zX", i);
    std::snprintf(fp, sizeof fp, "%064zx", i);
    const std::string cert = std::string("mc-") + id, job = std::string("job-") + id,
                      version = std::string("cv-") + id;
    store::append_request c;
    c.stream_id = "certificate-" + cert;
    c.expected = store::expected_version::no_stream();
    c.events.push_back(event(
        "certificate.created",
        std::string(R"({"common_name":")") + id +
            R"(.bench.example","issuer_id":"iss-local","name":")" + id +
            R"(","owner_id":"owner-bench","renewal_policy_id":"rp-bench","sans":[],"team_id":"team-bench"})"));
    c.events.push_back(event(
        "certificate.issued",
        R"({"csr_pem":)" + csr + R"(,"fingerprint_sha256":")" + fp +
            R"(","issuer_id":"iss-local","job_id":")" + job +
            R"(","key_algorithm":"ECDSA","key_size":256,"keygen":"server","not_after":"2028-01-05T00:00:00.000000Z","not_before":"2026-12-01T00:00:00.000000Z","pem_chain":)" +
            chain + R"(,"renewal":false,"serial_number":")" + serial + R"(","version_id":")" +
            version + "\"}"));
    store::append_request j;
    j.stream_id = "job-" + job;
    j.expected = store::expected_version::no_stream();
    j.events.push_back(
        event("job.created", R"({"awaiting_csr_mode":"server","certificate_id":")" + cert +
                                 R"(","max_attempts":3,"status":"Pending","type":"Issuance"})"));
    j.events.push_back(event("job.started", "{}"));
    j.events.push_back(event("job.completed", R"({"version_id":")" + version + "\"}"));
    submit(std::move(j));
    submit(std::move(c));
    if ((i + 1) % 100000 == 0)
      std::cout << "loaded " << (i + 1) << " in " << seconds_since(started) << " s" << std::endl;
  }
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return in_flight == 0; });
  if (!first_error.empty()) std::cerr << "error: append: " << first_error << "\n";
  return first_error.empty();
}

/// A certctl-server child process.
struct server_process {
  pid_t pid = -1;
  steady::time_point spawned;

  bool spawn(const std::string& binary, const std::string& data_dir, int port) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string(*e).rfind("CERTCTL_", 0) != 0) env.emplace_back(*e);
    env.push_back("CERTCTL_DATA_DIR=" + data_dir);
    env.push_back("CERTCTL_SERVER_PORT=" + std::to_string(port));
    env.push_back("CERTCTL_PKI_HTTP_PORT=" + std::to_string(port + 1));
    env.push_back("CERTCTL_KEYGEN_MODE=server");
    env.push_back(std::string("CERTCTL_API_KEYS_NAMED=bench:") + api_key + ":admin");
    std::vector<char*> envp, argv{const_cast<char*>(binary.c_str()), nullptr};
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = data_dir + "/../coldstart-server.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    spawned = steady::now();
    const int rc = posix_spawn(&pid, binary.c_str(), &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    return rc == 0;
  }

  /// Seconds until GET /ready answered 200; negative when the process died or `limit` passed.
  double wait_ready(int port, double limit) const {
    httplib::Client c("https://127.0.0.1:" + std::to_string(port));
    c.enable_server_certificate_verification(false);
    c.set_connection_timeout(1);
    c.set_read_timeout(5);
    while (seconds_since(spawned) < limit) {
      if (waitpid(pid, nullptr, WNOHANG) == pid) return -1;
      auto r = c.Get("/ready");
      if (r && r->status == 200) return seconds_since(spawned);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  long rss_kib() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }

  void stop() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

/// A GET with the admin key; the body, or empty on failure.
std::string admin_get(int port, const std::string& path) {
  httplib::Client c("https://127.0.0.1:" + std::to_string(port));
  c.enable_server_certificate_verification(false);
  c.set_read_timeout(60);
  c.set_bearer_token_auth(api_key);
  auto r = c.Get(path.c_str());
  return r && r->status == 200 ? r->body : std::string();
}

/// The projector's lag from /metrics; -1 when unknown.
double projection_lag(int port) {
  const std::string m = admin_get(port, "/metrics");
  const auto p = m.find("\ncertctl_projection_lag_events ");
  if (p == std::string::npos) return -1;
  return std::atof(m.c_str() + p + 31);
}

/// Waits until the projector has caught up (lag 0 twice in a row); seconds, or -1.
double wait_caught_up(int port, const server_process& s, double limit) {
  const auto t = steady::now();
  int zeros = 0;
  while (seconds_since(t) < limit) {
    if (projection_lag(port) == 0 && ++zeros == 2) return seconds_since(s.spawned);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return -1;
}

/// The revocation cache's pre-signed OCSP responses, from the admin view; -1 when unknown.
long presigned(int port) {
  const std::string body = admin_get(port, "/api/v1/admin/crl/cache");
  const std::string key = "\"presigned_ocsp_responses\":";
  long total = -1;
  for (auto p = body.find(key); p != std::string::npos; p = body.find(key, p + 1))
    total = std::max(total, 0L) + std::atol(body.c_str() + p + key.size());
  return total;
}

/// Waits until the pre-signing stopped growing (same count 3 polls in a row, 2 s apart) or
/// reached `want`; the count.
long wait_presigned(int port, long want, double limit) {
  const auto t = steady::now();
  long last = -2;
  int same = 0;
  while (seconds_since(t) < limit) {
    const long now = presigned(port);
    if (now >= want) return now;
    same = now == last ? same + 1 : 0;
    if (same == 3) return now;
    last = now;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
  return last;
}

}  // namespace

int run_coldstart(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench coldstart --server-binary PATH --dir DIR --count N",
      "Starts the server once on an empty DIR/data (CA, default issuer), stops it, writes N\n"
      "managed certificates straight into its SQLite store (5 events each, in batches),\n"
      "then starts it twice: the first start projects the new events, the second is a\n"
      "restart over caught-up read models. Prints the time to /ready and VmRSS per start.\n"
      "Uses ports P (HTTPS) and P+1 (PKI).");
  parser.option("server-binary", "PATH", "certctl-server to start", true)
      .option("dir", "DIR", "working directory (deleted and recreated)", true)
      .option("count", "N", "certificates (default 1000000)")
      .option("window", "W", "appends in flight while loading (default 4096)")
      .option("port", "P", "HTTPS port (default 41610)")
      .option("settle", "S", "seconds to wait after ready before the settled RSS (default 20)")
      .option("starts", "K", "measured starts after the load, 0 to 2 (default 2)");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto count = parsed->integer("count", 1000000);
  const auto window = parsed->integer("window", 4096);
  const auto port = parsed->integer("port", 41610);
  const auto settle = parsed->integer("settle", 20);
  const auto starts = parsed->integer("starts", 2, 0);
  if (!count || !window || !port || !settle || !starts || *count < 1) return cli::exit_usage;
  namespace fs = std::filesystem;
  const std::string dir = *parsed->get("dir"), data = dir + "/data";
  const std::string binary = *parsed->get("server-binary");
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(data, ec);
  if (ec) {
    std::cerr << "error: " << dir << ": " << ec.message() << "\n";
    return 2;
  }
  const int p = static_cast<int>(*port);
  long base_rss = 0;
  {  // First start on an empty directory: the CA, the default issuer, the schema.
    server_process s;
    if (!s.spawn(binary, data, p) || s.wait_ready(p, 120) < 0) {
      std::cerr << "error: the server did not become ready (see " << dir
                << "/coldstart-server.log)\n";
      s.stop();
      return 2;
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));
    base_rss = s.rss_kib();
    std::printf("empty_server_rss_kib=%ld\n", base_rss);
    s.stop();
  }
  auto material = make_template();
  if (!material) {
    std::cerr << "error: cannot make the template certificate\n";
    return 2;
  }
  {
    store::store_options o;
    auto store = store::open_event_store("sqlite://" + data + "/certctl.db", o);
    if (!store) {
      std::cerr << "error: " << store.error().message << "\n";
      return 2;
    }
    const auto t = steady::now();
    if (!load(**store, static_cast<size_t>(*count), static_cast<size_t>(*window), *material))
      return 2;
    std::printf("loaded=%lld load_seconds=%.1f\n", static_cast<long long>(*count),
                seconds_since(t));
  }
  std::printf("db_bytes=%llu\n",
              static_cast<unsigned long long>(fs::file_size(data + "/certctl.db", ec)));
  const double n = static_cast<double>(*count);
  std::fflush(stdout);
  for (int start = 1; start <= std::min<std::int64_t>(*starts, 2); ++start) {
    server_process s;
    if (!s.spawn(binary, data, p)) return 2;
    const double ready = s.wait_ready(p, 1800);
    if (ready < 0) {
      std::cerr << "error: start " << start << " never ready\n";
      s.stop();
      return 1;
    }
    const long rss_ready = s.rss_kib();
    const double caught_up = wait_caught_up(p, s, 3600);
    const long rss_caught_up = s.rss_kib();
    // The revocation cache pre-signs an OCSP response per certificate in the background.
    const long signed_now = wait_presigned(p, static_cast<long>(*count), 3600);
    const double presigned_s = seconds_since(s.spawned);
    std::this_thread::sleep_for(std::chrono::seconds(*settle));
    const long rss_settled = s.rss_kib();
    std::printf(
        "start=%d ready_s=%.2f rss_ready_kib=%ld projector_caught_up_s=%.1f "
        "rss_caught_up_kib=%ld presigned=%ld presigned_s=%.1f rss_settled_kib=%ld "
        "bytes_per_cert_total=%.0f bytes_per_cert_over_empty=%.0f\n",
        start, ready, rss_ready, caught_up, rss_caught_up, signed_now, presigned_s, rss_settled,
        static_cast<double>(rss_settled) * 1024.0 / n,
        static_cast<double>(rss_settled - base_rss) * 1024.0 / n);
    std::fflush(stdout);
    s.stop();
  }
  return 0;
}

}  // namespace certctl::bench
