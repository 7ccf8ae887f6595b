#include "tools/agent/agent_loop.hpp"

#include <algorithm>

#include "tools/agent/discovery_scan.hpp"
#include "tools/agent/system_info.hpp"

#ifndef CERTCTL_VERSION
#define CERTCTL_VERSION "dev"
#endif

namespace certctl::agent {
namespace {

using clock = std::chrono::steady_clock;

/// Discovery reports stay well under the server's default 1 MiB body limit.
constexpr size_t max_report_bytes = 512 * 1024;

/// An activity's schedule: due time and consecutive failures.
struct schedule {
  clock::time_point due = clock::now();
  int failures = 0;

  void after(bool ok, std::chrono::milliseconds interval, std::chrono::milliseconds cap) {
    failures = ok ? 0 : std::min(failures + 1, 30);
    auto wait = interval;
    for (int i = 0; i < failures && wait < cap; ++i) wait *= 2;
    due = clock::now() + std::min(wait, ok ? interval : std::max(cap, interval));
  }
};

}  // namespace

const char* agent_version() {
  return CERTCTL_VERSION;
}

agent_loop::agent_loop(const agent_options& options, server_client& server, key_dir& keys,
                       const connectors::connector_registry& registry, log_fn log)
    : options_(options),
      server_(server),
      log_(log),
      runner_(server, keys, registry, options.agent_id, log) {}

void agent_loop::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

bool agent_loop::wait_until(clock::time_point t) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, t, [this] { return stopping_; });
  return !stopping_;
}

agent_loop::step agent_loop::heartbeat() {
  const auto h = read_host_info();
  events::json_object body;
  body.set("version", agent_version())
      .set("hostname", h.hostname)
      .set("os", h.os)
      .set("architecture", h.architecture)
      .set("ip_address", h.ip_address);
  auto r = server_.post("/api/v1/agents/" + options_.agent_id + "/heartbeat", body.dump());
  if (!r) {
    log_("warn", "heartbeat: " + r.error());
    return step::failed;
  }
  if (r->status == 410) return step::retired;
  if (r->status == 404) return step::not_registered;
  if (r->status != 200) {
    log_("warn", "heartbeat refused (" + std::to_string(r->status) + "): " + r->body);
    return step::failed;
  }
  return step::ok;
}

agent_loop::step agent_loop::poll() {
  auto r = server_.get("/api/v1/agents/" + options_.agent_id + "/work");
  if (!r) {
    log_("warn", "work poll: " + r.error());
    return step::failed;
  }
  if (r->status == 410) return step::retired;
  if (r->status == 404) return step::not_registered;
  if (r->status != 200) {
    log_("warn", "work poll refused (" + std::to_string(r->status) + "): " + r->body);
    return step::failed;
  }
  auto doc = events::json_object::parse(r->body).value_or(events::json_object{});
  bool failed = false;
  for (const auto& item : doc.object_array("jobs")) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;  // between items only: the item in hand runs to its end
    }
    switch (runner_.run(item)) {
      case work_outcome::retired:
        return step::retired;
      case work_outcome::retry:
        failed = true;
        break;
      case work_outcome::done:
        break;
    }
  }
  return failed ? step::failed : step::ok;
}

agent_loop::step agent_loop::discover() {
  auto scan = scan_directories(options_.discovery_dirs);
  log_("info", "discovery: " + std::to_string(scan.found.size()) + " certificates, " +
                   std::to_string(scan.errors.size()) + " errors in " +
                   std::to_string(scan.duration_ms) + " ms");
  // One report per batch that fits the body limit; errors go with the first.
  size_t next = 0;
  bool first = true;
  while (first || next < scan.found.size()) {
    std::string certs;
    size_t bytes = 0;
    for (; next < scan.found.size(); ++next) {
      const auto& f = scan.found[next];
      events::json_object c;
      c.set("pem_data", f.pem).set("source_path", f.path).set("source_format", f.format);
      const std::string one = c.dump();
      if (bytes > 0 && bytes + one.size() > max_report_bytes) break;
      certs += (bytes > 0 ? "," : "") + one;
      bytes += one.size() + 1;
    }
    events::json_object body;
    body.set("agent_id", options_.agent_id)
        .set("directories", scan.directories)
        .set_raw("certificates", "[" + certs + "]")
        .set("errors", first ? scan.errors : std::vector<std::string>{})
        .set("scan_duration_ms", scan.duration_ms);
    first = false;
    auto r = server_.post("/api/v1/agents/" + options_.agent_id + "/discoveries", body.dump());
    if (!r) {
      log_("warn", "discovery report: " + r.error());
      return step::failed;
    }
    if (r->status == 410) return step::retired;
    if (r->status != 202) {
      log_("warn", "discovery report refused (" + std::to_string(r->status) + "): " + r->body);
      return step::failed;
    }
  }
  return step::ok;
}

loop_end agent_loop::run() {
  log_("info", "certctl-agent " + std::string(agent_version()) + " (" + options_.name + ", id " +
                   options_.agent_id + ") serving " + options_.server_url);
  schedule beat, work, scan;
  const bool discovery = !options_.discovery_dirs.empty();
  for (;;) {
    const auto now = clock::now();
    step s = step::ok;
    auto terminal = [&s] { return s == step::retired || s == step::not_registered; };
    if (now >= beat.due) {
      s = heartbeat();
      beat.after(s == step::ok, options_.heartbeat_interval, options_.max_backoff);
    }
    if (!terminal() && now >= work.due) {
      s = poll();
      work.after(s == step::ok, options_.poll_interval, options_.max_backoff);
    }
    if (!terminal() && discovery && now >= scan.due) {
      s = discover();
      scan.after(s == step::ok, options_.discovery_interval, options_.max_backoff);
    }
    if (s == step::retired) {
      log_("info", "the server retired agent " + options_.agent_id + " (410 Gone); exiting");
      return loop_end::retired;
    }
    if (s == step::not_registered) {
      log_("error", "the server does not know agent " + options_.agent_id +
                        "; register it (POST /api/v1/agents) and pass its id");
      return loop_end::not_registered;
    }
    auto due = std::min(beat.due, work.due);
    if (discovery) due = std::min(due, scan.due);
    if (!wait_until(due)) {
      log_("info", "stopping");
      return loop_end::stopped;
    }
  }
}

}  // namespace certctl::agent
