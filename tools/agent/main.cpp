// certctl-agent: pulls work from a certctl server (see agent_loop.hpp). Wiring only: options,
// logging, signals, the connector registry, the loop.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "connectors/builtin.hpp"
#include "events/json.hpp"
#include "infra/net/ip_address.hpp"
#include "infra/net/outbound_guard.hpp"
#include "tools/agent/agent_loop.hpp"

namespace {

/// One JSON line per message on stderr, like the server's logs.
void log_line(const std::string& level, const std::string& message) {
  static std::mutex mu;
  char ts[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  certctl::events::json_object o;
  o.set("time", ts).set("level", level).set("msg", message);
  std::lock_guard<std::mutex> lock(mu);
  std::cerr << o.dump() << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace certctl::agent;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = parse_options(args, process_env());
  if (!parsed) {
    std::cerr << "certctl-agent: " << parsed.error() << "\n";
    return 2;
  }
  if (parsed->help) {
    std::cout << usage();
    return 0;
  }
  const agent_options& o = parsed->options;

  // Signals are taken by one thread with sigwait, so the loop stops between steps.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGPIPE);  // a closed connection must not kill the agent
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto keys = key_dir::open(o.key_dir);
  if (!keys) {
    log_line("error", keys.error());
    return 2;
  }
  auto server = server_client::open(o.server_url, o.api_key, o.ca_bundle);
  if (!server) {
    log_line("error", server.error());
    return 2;
  }
  certctl::connectors::connector_registry registry;
  std::string cidr_text;
  for (const auto& c : o.outbound_allow_cidrs) cidr_text += (cidr_text.empty() ? "" : ",") + c;
  // Checked by parse_options; an empty list allows public addresses only.
  const certctl::net::outbound_guard guard(cidr_text.empty()
                                               ? std::vector<certctl::net::cidr>{}
                                               : certctl::net::parse_cidr_list(cidr_text).value());
  certctl::connectors::builtin_context context;
  context.agent_side = true;
  context.outbound = &guard;
  if (auto r = certctl::connectors::register_builtin_connectors(registry, context); !r) {
    log_line("error", "connector registration failed: " + r.error());
    return 1;
  }
  agent_loop loop(o, **server, *keys, registry, log_line);
  std::thread signals([&loop, stop_signals] {
    int sig = 0;
    for (;;) {
      if (sigwait(&stop_signals, &sig) != 0) continue;
      if (sig == SIGPIPE) continue;
      log_line("info", std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT"));
      loop.stop();
      return;
    }
  });
  const loop_end end = loop.run();
  if (end != loop_end::stopped) {
    // Wake the signal thread so it can be joined.
    pthread_kill(signals.native_handle(), SIGTERM);
  }
  signals.join();
  return end == loop_end::not_registered ? 2 : 0;
}
