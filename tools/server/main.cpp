// certctl-server: opens (or creates) the event store and serves the API.
// At this stage it answers GET /health and GET /ready; the lifecycle core grows it.
#include <httplib.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "infra/config.hpp"
#include "infra/store/event_store.hpp"
#include "infra/store/postgres_store.hpp"

namespace {
httplib::Server* running_server = nullptr;
void on_signal(int) {
  if (running_server) running_server->stop();
}
}  // namespace

int main() {
  using namespace certctl;
  auto cfg = infra::load_config([](const char* n) { return std::getenv(n); });
  if (!cfg) {
    std::cerr << "certctl-server: configuration error: " << cfg.error().message << "\n";
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(cfg->data_dir, ec);
  if (ec) {
    std::cerr << "certctl-server: cannot create CERTCTL_DATA_DIR " << cfg->data_dir << ": "
              << ec.message() << "\n";
    return 2;
  }
  auto store = store::open_event_store(cfg->store_url());
  if (!store) {
    std::cerr << "certctl-server: " << store.error().message << "\n";
    return 1;
  }
  std::cout << "certctl-server: event store " << (*store)->backend() << " at "
            << store::redact_uri(cfg->store_url()) << "\n";

  httplib::Server server;
  server.set_tcp_nodelay(true);
  server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"healthy\"}", "application/json");
  });
  server.Get("/ready", [&](const httplib::Request&, httplib::Response& res) {
    auto head = (*store)->head_position();
    if (head) {
      res.set_content("{\"status\":\"ready\"}", "application/json");
    } else {
      res.status = 503;
      res.set_content("{\"status\":\"not_ready\"}", "application/json");
    }
  });
  int port = cfg->port;
  if (port == 0) {
    port = server.bind_to_any_port(cfg->host);
  } else if (!server.bind_to_port(cfg->host, port)) {
    std::cerr << "certctl-server: cannot listen on " << cfg->host << ":" << port << "\n";
    return 1;
  }
  running_server = &server;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cout << "certctl-server: listening on http://" << cfg->host << ":" << port << std::endl;
  server.listen_after_bind();
  return 0;
}
