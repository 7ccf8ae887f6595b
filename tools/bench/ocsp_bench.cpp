#include "tools/bench/ocsp_bench.hpp"

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "infra/crypto/ocsp.hpp"
#include "tools/audit/cli.hpp"
#include "tools/bench/latency.hpp"

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// "http://host:port/path" -> ("http://host:port", "/path").
std::optional<std::pair<std::string, std::string>> split_url(const std::string& url) {
  const auto scheme = url.find("://");
  if (scheme == std::string::npos) return std::nullopt;
  const auto path = url.find('/', scheme + 3);
  if (path == std::string::npos) return std::nullopt;
  return std::make_pair(url.substr(0, path), url.substr(path));
}

struct worker_result {
  std::vector<double> latencies_us;
  std::uint64_t failures = 0;
  std::string first_failure;
};

}  // namespace

int run_ocsp(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench ocsp --url URL --issuer-cert FILE --serials FILE --concurrency C "
      "--seconds S",
      "C threads, one keep-alive connection each, POST DER OCSP requests (one CertID, SHA-1,\n"
      "no nonce unless --nonce) for the serials in FILE (hex, one per line) to URL for S\n"
      "seconds. Prints latency percentiles; the last line is ocsp_per_s=<number>.");
  parser.option("url", "URL", "http://127.0.0.1:PORT/.well-known/pki/ocsp/ISSUER", true)
      .option("issuer-cert", "FILE", "PEM certificate of the issuing CA", true)
      .option("serials", "FILE", "serial numbers in hex, one per line", true)
      .option("concurrency", "C", "client threads (default 8)")
      .option("seconds", "S", "measured duration (default 10)")
      .flag("nonce", "send a fresh nonce with every request (the server signs each answer)");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto concurrency = parsed->integer("concurrency", 8);
  const auto seconds = parsed->integer("seconds", 10);
  if (!concurrency || !seconds) return cli::exit_usage;
  const auto url = split_url(*parsed->get("url"));
  if (!url) {
    std::cerr << "error: --url must look like http://host:port/path\n";
    return cli::exit_usage;
  }
  const std::string issuer = read_all(*parsed->get("issuer-cert"));
  std::vector<std::string> serials;
  std::istringstream lines(read_all(*parsed->get("serials")));
  for (std::string s; std::getline(lines, s);)
    if (!s.empty()) serials.push_back(s);
  if (serials.empty()) {
    std::cerr << "error: no serials in " << *parsed->get("serials") << "\n";
    return cli::exit_usage;
  }
  const bool nonce = parsed->has("nonce");
  // Requests are built once (unless each needs its own nonce): the client's cost stays out of
  // the measurement as far as possible.
  std::vector<std::string> requests;
  for (const auto& s : serials) {
    auto der = crypto::build_ocsp_request(issuer, {s}, crypto::ocsp_hash::sha1, false);
    if (!der) {
      std::cerr << "error: " << der.error().message << "\n";
      return cli::exit_usage;
    }
    requests.emplace_back(der->begin(), der->end());
  }
  {  // Sanity: the responder knows the first serial (good or revoked, not unknown).
    httplib::Client c(url->first);
    auto r = c.Post(url->second.c_str(), requests[0], "application/ocsp-request");
    auto info = r ? crypto::parse_ocsp_response(crypto::bytes(r->body.begin(), r->body.end()))
                  : crypto::crypto_result<crypto::ocsp_response_info>(
                        crypto::crypto_error{"no answer: " + httplib::to_string(r.error())});
    if (!info || info->status != crypto::ocsp_response_status::successful ||
        info->singles.empty() || info->singles[0].status == crypto::ocsp_cert_status::unknown ||
        !info->signature_valid) {
      std::cerr << "error: the responder does not answer for " << serials[0] << ": "
                << (info ? "status/unknown/signature" : info.error().message) << "\n";
      return 2;
    }
  }

  std::vector<worker_result> results(static_cast<size_t>(*concurrency));
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  const auto duration = std::chrono::seconds(*seconds);
  steady::time_point start;
  for (size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      worker_result& out = results[t];
      out.latencies_us.reserve(1 << 20);
      httplib::Client c(url->first);
      c.set_keep_alive(true);
      c.set_tcp_nodelay(true);
      c.set_connection_timeout(10);
      c.set_read_timeout(30);
      while (!go.load()) std::this_thread::yield();
      const auto end = start + duration;
      for (size_t i = t; steady::now() < end; i += results.size()) {
        std::string body = requests[i % requests.size()];
        if (nonce) {
          auto der = crypto::build_ocsp_request(issuer, {serials[i % serials.size()]},
                                                crypto::ocsp_hash::sha1, true);
          if (der) body.assign(der->begin(), der->end());
        }
        const auto t0 = steady::now();
        auto r = c.Post(url->second.c_str(), body, "application/ocsp-request");
        const auto t1 = steady::now();
        // Byte 4 or 5 of an OCSPResponse is its status; 0x0a 0x01 0x00 = successful.
        const bool ok = r && r->status == 200 && r->body.size() > 8 &&
                        r->body.find(std::string("\x0a\x01\x00", 3)) < 8;
        if (!ok) {
          if (out.failures++ == 0)
            out.first_failure =
                r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error());
          continue;
        }
        out.latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  start = steady::now();
  go.store(true);
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(steady::now() - start).count();

  std::vector<double> all;
  std::uint64_t failures = 0;
  for (auto& r : results) {
    all.insert(all.end(), r.latencies_us.begin(), r.latencies_us.end());
    failures += r.failures;
    if (r.failures) std::cerr << "first failure: " << r.first_failure << "\n";
  }
  const size_t ok = all.size();
  const auto summary = summarize(all);
  std::cout << "url=" << *parsed->get("url") << " concurrency=" << *concurrency
            << " seconds=" << *seconds << " serials=" << serials.size()
            << " nonce=" << (nonce ? "yes" : "no") << "\n";
  std::cout << "responses=" << ok << " failures=" << failures << "\n";
  std::cout << "latency " << to_string(summary) << "\n";
  char line[64];
  std::snprintf(line, sizeof line, "ocsp_per_s=%.1f", static_cast<double>(ok) / elapsed);
  std::cout << line << std::endl;
  return failures == 0 ? 0 : 1;
}

}  // namespace certctl::bench
