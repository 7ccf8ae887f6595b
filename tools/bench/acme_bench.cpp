#include "tools/bench/acme_bench.hpp"

#include <httplib.h>
#include <rapidjson/document.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "infra/crypto/csr.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/keys.hpp"
#include "tools/audit/cli.hpp"
#include "tools/bench/latency.hpp"
#include "tools/bench/process_cpu.hpp"

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

struct directory_urls {
  std::string origin;  ///< scheme://host:port of the directory
  std::string new_nonce, new_account, new_order;
};

struct reply {
  int status = 0;
  std::string body;
  std::string location;
  std::string describe(const char* step) const {
    return std::string(step) + ": HTTP " + std::to_string(status) + " " + body.substr(0, 300);
  }
};

std::string str_of(const rapidjson::Value& v, const char* k) {
  return v.IsObject() && v.HasMember(k) && v[k].IsString() ? v[k].GetString() : "";
}

std::unique_ptr<httplib::Client> connect(const std::string& origin, const std::string& ca) {
  auto c = std::make_unique<httplib::Client>(origin);
  c->set_keep_alive(true);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(10);
  c->set_read_timeout(60);
  c->set_ca_cert_path(ca.c_str());
  c->enable_server_certificate_verification(true);
  return c;
}

/// PEM -> base64url of the DER inside (one PEM object).
std::string pem_to_b64url(const std::string& pem) {
  std::string out;
  const size_t begin = pem.find('\n') + 1, end = pem.find("-----END");
  for (size_t i = begin; i < end && i < pem.size(); ++i) {
    const char ch = pem[i];
    if (ch == '\n' || ch == '\r' || ch == '=') continue;
    out.push_back(ch == '+' ? '-' : ch == '/' ? '_' : ch);
  }
  return out;
}

/// http-01 answers (RFC 8555 §8.3) for a server that validates: token -> key authorization,
/// served on 127.0.0.1 (the server's http-01 host and port point here).
class http01_responder {
 public:
  bool start(int port) {
    server_.Get(R"(/\.well-known/acme-challenge/([A-Za-z0-9_-]+))",
                [this](const httplib::Request& req, httplib::Response& res) {
                  std::lock_guard<std::mutex> lock(mu_);
                  auto it = answers_.find(req.matches[1].str());
                  if (it == answers_.end()) {
                    res.status = 404;
                    return;
                  }
                  res.set_content(it->second, "application/octet-stream");
                });
    if (!server_.bind_to_port("127.0.0.1", port)) return false;
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return true;
  }
  void answer(const std::string& token, const std::string& key_authorization) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_[token] = key_authorization;
  }
  ~http01_responder() {
    if (!thread_.joinable()) return;
    server_.stop();
    thread_.join();
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> answers_;
};

/// One worker's ACME client: a keep-alive connection, an ES256 account key, the next nonce.
class acme_session {
 public:
  acme_session(const directory_urls& u, const std::string& ca)
      : urls_(u), http_(connect(u.origin, ca)) {}

  bool register_account(std::string& error) {
    auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
    if (!key) return error = "key: " + key.error().message, false;
    // Parsed once: re-reading the PEM for every signature would cost the client more than
    // the signature itself, and the client shares the machine with the server it measures.
    auto signer = crypto::jws_signer::make(key->pem);
    if (!signer) return error = "key: " + signer.error().message, false;
    signer_ = std::move(signer).value();
    auto r = post(urls_.new_account, R"({"termsOfServiceAgreed":true})");
    if (r.status != 201 && r.status != 200) return error = r.describe("new-account"), false;
    kid_ = r.location;
    return true;
  }

  /// RFC 8555 §8.1: token "." base64url(JWK thumbprint of the account key).
  std::string key_authorization(const std::string& token) const {
    return token + "." + signer_->public_key().thumbprint;
  }

  /// Signed POST (kid once registered, else jwk); retries a badNonce with the fresh nonce.
  reply post(const std::string& url, const std::string& payload) {
    reply out;
    if (url.rfind(urls_.origin, 0) != 0) return {0, "URL not under " + urls_.origin, ""};
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (nonce_.empty()) {
        auto n = http_->Head(urls_.new_nonce.substr(urls_.origin.size()).c_str());
        if (!n) return {0, "new-nonce: " + httplib::to_string(n.error()), ""};
        nonce_ = n->get_header_value("Replay-Nonce");
      }
      auto body = signer_->sign(nonce_, url, kid_, payload);
      nonce_.clear();
      if (!body) return {0, "sign: " + body.error().message, ""};
      auto r = http_->Post(url.substr(urls_.origin.size()).c_str(), *body, "application/jose+json");
      if (!r) return {0, httplib::to_string(r.error()), ""};
      nonce_ = r->get_header_value("Replay-Nonce");
      out = {r->status, r->body, r->get_header_value("Location")};
      if (r->status != 400 || r->body.find("badNonce") == std::string::npos) break;
    }
    return out;
  }

 private:
  const directory_urls& urls_;
  std::unique_ptr<httplib::Client> http_;
  std::shared_ptr<const crypto::jws_signer> signer_;
  std::string kid_, nonce_;
};

/// Polls `url` (POST-as-GET) until its status is none of `waiting`; the last document.
bool poll(acme_session& s, const std::string& url, std::initializer_list<const char*> waiting,
          rapidjson::Document& doc, std::string& error) {
  const auto deadline = steady::now() + std::chrono::seconds(60);
  for (;;) {
    auto r = s.post(url, "");
    if (r.status != 200) return error = r.describe("poll"), false;
    doc.Parse(r.body.c_str());
    const std::string status = str_of(doc, "status");
    bool wait = false;
    for (const char* w : waiting) wait = wait || status == w;
    if (!wait) return true;
    if (steady::now() > deadline) return error = "timed out polling " + url, false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

/// The steps of one order flow, timed separately so a run shows where a server spends its time.
enum step { step_new_order, step_authz, step_finalize, step_poll, step_download, step_count };
const char* const step_names[step_count] = {"new-order", "authz", "finalize", "poll", "download"};
using step_samples = std::vector<double>[step_count];

/// Adds the time since `t0` to `samples[s]` and restarts `t0`.
void lap(step_samples& samples, step s, steady::time_point& t0) {
  const auto now = steady::now();
  samples[s].push_back(std::chrono::duration<double, std::micro>(now - t0).count());
  t0 = now;
}

/// One complete order for `name`; false with `error` on any failure.
bool run_order(acme_session& s, const directory_urls& u, const std::string& name,
               http01_responder* responder, step_samples& steps, std::string& error) {
  auto t0 = steady::now();
  auto o = s.post(u.new_order, R"({"identifiers":[{"type":"dns","value":")" + name + "\"}]}");
  if (o.status != 201) return error = o.describe("new-order"), false;
  rapidjson::Document order;
  order.Parse(o.body.c_str());
  if (order.HasParseError() || !order.HasMember("authorizations") ||
      !order["authorizations"].IsArray())
    return error = o.describe("new-order body"), false;
  lap(steps, step_new_order, t0);
  for (const auto& az : order["authorizations"].GetArray()) {
    if (!az.IsString()) return error = "authorization URL is not a string", false;
    auto a = s.post(az.GetString(), "");
    if (a.status != 200) return error = a.describe("authz"), false;
    rapidjson::Document authz;
    authz.Parse(a.body.c_str());
    if (str_of(authz, "status") == "valid") continue;
    // A server with challenges (pebble with PEBBLE_VA_ALWAYS_VALID, certctl in challenge
    // mode): answer http-01, from the responder when the server really connects.
    std::string challenge, token;
    if (authz.HasMember("challenges") && authz["challenges"].IsArray())
      for (const auto& ch : authz["challenges"].GetArray())
        if (str_of(ch, "type") == "http-01") {
          challenge = str_of(ch, "url");
          token = str_of(ch, "token");
        }
    if (challenge.empty()) return error = a.describe("authz without http-01"), false;
    if (responder != nullptr) responder->answer(token, s.key_authorization(token));
    auto c = s.post(challenge, "{}");
    if (c.status != 200) return error = c.describe("challenge"), false;
    if (!poll(s, az.GetString(), {"pending", "processing"}, authz, error)) return false;
    if (str_of(authz, "status") != "valid") return error = "authorization not valid", false;
  }
  lap(steps, step_authz, t0);
  crypto::subject_alt_names sans;
  sans.dns = {name};
  auto csr = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, name, sans);
  if (!csr) return error = "csr: " + csr.error().message, false;
  auto f = s.post(str_of(order, "finalize"), R"({"csr":")" + pem_to_b64url(csr->csr_pem) + "\"}");
  if (f.status != 200) return error = f.describe("finalize"), false;
  lap(steps, step_finalize, t0);
  rapidjson::Document done;
  done.Parse(f.body.c_str());
  if (str_of(done, "status") != "valid" &&
      !poll(s, o.location, {"pending", "ready", "processing"}, done, error))
    return false;
  lap(steps, step_poll, t0);
  if (str_of(done, "status") != "valid") return error = "order " + str_of(done, "status"), false;
  auto cert = s.post(str_of(done, "certificate"), "");
  if (cert.status != 200 || cert.body.find("BEGIN CERTIFICATE") == std::string::npos)
    return error = cert.describe("certificate"), false;
  lap(steps, step_download, t0);
  return true;
}

/// User plus system CPU time of this process so far.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

struct worker_result {
  std::vector<double> latencies_us;
  step_samples steps;
  std::int64_t failures = 0;
  std::string first_error;
};

}  // namespace

int run_acme(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench acme --directory URL --ca-bundle FILE --concurrency C --orders N",
      "C threads, each with its own account and keep-alive connection, run N complete ACME\n"
      "order flows in all (new-order, authz, finalize with a fresh P-256 CSR, poll, download).\n"
      "Accounts are registered before the clock starts. The last line is\n"
      "acme_orders_per_s=<number>.");
  parser
      .option("directory", "URL", "the ACME directory, e.g. https://127.0.0.1:8443/acme/directory",
              true)
      .option("ca-bundle", "FILE", "PEM CA certificates that verify the server", true)
      .option("concurrency", "C", "client threads (default 8)")
      .option("orders", "N", "orders in all (default 200)")
      .option("server-pid", "PID",
              "the server's process id (same machine): prints its CPU per completed order")
      .option("http01-port", "PORT",
              "answer http-01 on 127.0.0.1:PORT, for a server that validates (certctl in\n"
              "challenge mode with CERTCTL_ACME_SERVER_HTTP01_HOST=127.0.0.1 and _PORT=PORT)");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto concurrency = parsed->integer("concurrency", 8);
  const auto orders = parsed->integer("orders", 200);
  const auto server_pid = parsed->integer("server-pid", 0, 0);
  const auto http01_port = parsed->integer("http01-port", 0, 0);
  if (!concurrency || !orders || !server_pid || !http01_port || *concurrency < 1 || *orders < 1)
    return cli::exit_usage;
  std::unique_ptr<http01_responder> responder;
  if (*http01_port > 0) {
    responder = std::make_unique<http01_responder>();
    if (!responder->start(static_cast<int>(*http01_port))) {
      std::cerr << "error: cannot listen on 127.0.0.1:" << *http01_port << "\n";
      return 2;
    }
  }
  const std::string directory = *parsed->get("directory"), ca = *parsed->get("ca-bundle");
  const auto scheme = directory.find("://");
  const auto path = scheme == std::string::npos ? scheme : directory.find('/', scheme + 3);
  if (path == std::string::npos) {
    std::cerr << "error: --directory must look like https://host:port/path\n";
    return cli::exit_usage;
  }
  directory_urls urls;
  urls.origin = directory.substr(0, path);
  {
    auto c = connect(urls.origin, ca);
    auto r = c->Get(directory.substr(path).c_str());
    rapidjson::Document d;
    if (r) d.Parse(r->body.c_str());
    if (!r || r->status != 200 || d.HasParseError()) {
      std::cerr << "error: directory " << directory << ": "
                << (r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error()))
                << "\n";
      return 2;
    }
    urls.new_nonce = str_of(d, "newNonce");
    urls.new_account = str_of(d, "newAccount");
    urls.new_order = str_of(d, "newOrder");
  }
  const std::string tag = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());

  std::vector<worker_result> results(static_cast<size_t>(*concurrency));
  std::atomic<int> registered{0}, setup_failures{0};
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      worker_result& out = results[t];
      acme_session s(urls, ca);
      std::string error;
      const bool ok = s.register_account(error);
      if (!ok) {
        std::cerr << "error: worker " << t << ": " << error << "\n";
        ++setup_failures;
      }
      ++registered;
      while (!go.load()) std::this_thread::yield();
      if (!ok) return;
      for (std::int64_t i = next++; i < *orders; i = next++) {
        const auto t0 = steady::now();
        const std::string name = "o" + std::to_string(i) + "-" + tag + ".bench.example.test";
        if (!run_order(s, urls, name, responder.get(), out.steps, error)) {
          if (out.failures++ == 0) out.first_error = error;
          continue;
        }
        out.latencies_us.push_back(
            std::chrono::duration<double, std::micro>(steady::now() - t0).count());
      }
    });
  }
  while (registered.load() < static_cast<int>(results.size()))
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const double cpu_before = process_cpu_seconds();
  const auto server_before = *server_pid > 0 ? process_cpu_seconds_of(*server_pid) : std::nullopt;
  const auto start = steady::now();
  go.store(true);
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(steady::now() - start).count();
  const double client_cpu = process_cpu_seconds() - cpu_before;
  const auto server_after = *server_pid > 0 ? process_cpu_seconds_of(*server_pid) : std::nullopt;

  std::vector<double> all;
  std::vector<double> steps[step_count];
  std::int64_t failures = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    for (int i = 0; i < step_count; ++i)
      steps[i].insert(steps[i].end(), r.steps[i].begin(), r.steps[i].end());
    if (r.failures && failures == 0) std::cerr << "error: first failure: " << r.first_error << "\n";
    failures += r.failures;
  }
  const auto summary = summarize(all);
  char line[160];
  std::cout << "directory=" << directory << " concurrency=" << *concurrency << " orders=" << *orders
            << "\n";
  std::snprintf(line, sizeof line, "completed=%zu failed=%lld seconds=%.3f", all.size(),
                static_cast<long long>(failures), elapsed);
  std::cout << line << "\n";
  std::cout << "order latency " << to_string(summary) << "\n";
  // Per step (each order's client-side signing included): where a server spends a flow.
  for (int i = 0; i < step_count; ++i)
    std::cout << "  " << step_names[i] << " " << to_string(summarize(steps[i])) << "\n";
  // The client shares the machine with the server: how much of it the client itself took.
  std::snprintf(line, sizeof line, "client_cpu_s=%.2f (%.0f%% of one core)", client_cpu,
                elapsed > 0 ? 100.0 * client_cpu / elapsed : 0.0);
  std::cout << line << "\n";
  if (server_before && server_after && !all.empty()) {
    const double cpu_s = *server_after - *server_before;
    std::snprintf(line, sizeof line, "server_cpu_s=%.2f server_cpu_ms_per_order=%.3f", cpu_s,
                  1000.0 * cpu_s / static_cast<double>(all.size()));
    std::cout << line << "\n";
  } else if (*server_pid > 0) {
    std::cerr << "warning: cannot read /proc/" << *server_pid << "/stat\n";
  }
  std::snprintf(line, sizeof line, "acme_orders_per_s=%.1f",
                static_cast<double>(all.size()) / elapsed);
  std::cout << line << std::endl;
  if (setup_failures.load() > 0) return 2;
  return failures == 0 && static_cast<std::int64_t>(all.size()) == *orders ? 0 : 1;
}

}  // namespace certctl::bench
