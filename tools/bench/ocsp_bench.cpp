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
#include "tools/bench/ocsp_load.hpp"

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

}  // namespace

int run_ocsp(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench ocsp --url URL --issuer-cert FILE --serials FILE --concurrency C "
      "--seconds S",
      "C keep-alive connections (driven by T epoll threads) POST DER OCSP requests (one\n"
      "CertID, SHA-1, no nonce unless --nonce), one at a time each, for the serials in FILE\n"
      "(hex, one per line) to URL for S seconds. Raises the open-file limit for C. Prints\n"
      "latency percentiles; the last line is ocsp_per_s=<number>.");
  parser.option("url", "URL", "http://127.0.0.1:PORT/.well-known/pki/ocsp/ISSUER", true)
      .option("issuer-cert", "FILE", "PEM certificate of the issuing CA", true)
      .option("serials", "FILE", "serial numbers in hex, one per line", true)
      .option("concurrency", "C", "keep-alive connections (default 8)")
      .option("threads", "T", "client threads driving them with epoll (default 1)")
      .option("rate", "R", "open loop: R requests/s over all connections (default: closed loop)")
      .option("seconds", "S", "measured duration (default 10)")
      .flag("nonce", "send a fresh nonce with every request (the server signs each answer)");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto concurrency = parsed->integer("concurrency", 8);
  const auto seconds = parsed->integer("seconds", 10);
  const auto threads = parsed->integer("threads", 1);
  if (!concurrency || !seconds || !threads || *concurrency < 1 || *threads < 1)
    return cli::exit_usage;
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

  // host:port of the URL (http://127.0.0.1:PORT): the load generator speaks HTTP itself.
  const std::string authority = url->first.substr(url->first.find("://") + 3);
  const auto colon = authority.rfind(':');
  ocsp_load_options load;
  load.host = authority.substr(0, colon);
  load.port = colon == std::string::npos ? 80 : std::atoi(authority.c_str() + colon + 1);
  load.path = url->second;
  load.connections = static_cast<size_t>(*concurrency);
  load.threads = static_cast<size_t>(*threads);
  load.duration = std::chrono::seconds(*seconds);
  const auto rate = parsed->integer("rate", 0);
  if (!rate || *rate < 0) return cli::exit_usage;
  load.rate = static_cast<double>(*rate);
  if (nonce) {
    // Each answer is signed on demand; the nonces need not be unique for that, so a pool of
    // requests built up front keeps the client's signing-free cost out of the measurement.
    for (size_t i = 0; i < 1000; ++i) {
      auto der = crypto::build_ocsp_request(issuer, {serials[i % serials.size()]},
                                            crypto::ocsp_hash::sha1, true);
      if (!der) {
        std::cerr << "error: " << der.error().message << "\n";
        return cli::exit_usage;
      }
      load.bodies.emplace_back(der->begin(), der->end());
    }
  } else {
    load.bodies = requests;
  }
  auto result = run_ocsp_load(load);
  const double elapsed = result.elapsed_s;
  std::vector<double>& all = result.latencies_us;
  const std::uint64_t failures = result.failures;
  if (failures) std::cerr << "first failure: " << result.first_failure << "\n";
  const size_t ok = all.size();
  const auto summary = summarize(all);
  std::cout << "url=" << *parsed->get("url") << " concurrency=" << *concurrency
            << " seconds=" << *seconds << " serials=" << serials.size()
            << " nonce=" << (nonce ? "yes" : "no") << " client_threads=" << *threads
            << " rate=" << (*rate > 0 ? std::to_string(*rate) : std::string("closed-loop")) << "\n";
  std::cout << "responses=" << ok << " failures=" << failures << " reconnects=" << result.reconnects
            << " answered_connections=" << result.answered_connections << "/" << *concurrency
            << "\n";
  std::cout << "latency " << to_string(summary) << "\n";
  char line[64];
  std::snprintf(line, sizeof line, "ocsp_per_s=%.1f", static_cast<double>(ok) / elapsed);
  std::cout << line << std::endl;
  return failures == 0 ? 0 : 1;
}

}  // namespace certctl::bench
