#include "tools/cli/status_command.hpp"

#include <iostream>
#include <optional>

#include "events/json.hpp"
#include "tools/cli/command_support.hpp"

namespace certctl::client {
namespace {

/// The `status` field of a health or readiness answer, or the error it carried.
std::string status_line(const api_response& r) {
  auto j = events::json_object::parse(r.body);
  if (r.status >= 200 && r.status <= 299) return j && j->has("status") ? j->str("status") : "ok";
  return describe_api_error(r);
}

std::string version_line(const api_response& r) {
  auto j = events::json_object::parse(r.body);
  if (!j || r.status != 200) return "unavailable (" + describe_api_error(r) + ")";
  std::string out = j->str("version", "?");
  std::string details;
  if (!j->str("commit").empty()) details += "commit " + j->str("commit").substr(0, 12);
  if (j->boolean("modified")) details += "+modified";
  if (!j->str("build_time").empty())
    details += (details.empty() ? "" : ", ") + j->str("build_time");
  if (!j->str("go_version").empty())
    details += (details.empty() ? "" : ", ") + j->str("go_version");
  return details.empty() ? out : out + " (" + details + ")";
}

/// The DashboardSummary counters, grouped by what they count.
std::vector<std::pair<std::string, std::string>> summary_lines(const events::json_object& s) {
  auto n = [&s](const char* key) { return s.has(key) ? std::to_string(s.int64(key)) : "?"; };
  return {{"certificates", n("total_certificates") + " total, " + n("expiring_certificates") +
                               " expiring, " + n("expired_certificates") + " expired, " +
                               n("revoked_certificates") + " revoked"},
          {"agents", n("total_agents") + " total, " + n("active_agents") + " active, " +
                         n("offline_agents") + " offline"},
          {"jobs", n("pending_jobs") + " pending, " + n("failed_jobs") + " failed, " +
                       n("complete_jobs") + " completed"}};
}

void print_line(const std::string& key, const std::string& value) {
  std::string k = key + ":";
  k.resize(std::max<size_t>(k.size() + 1, 15), ' ');
  std::cout << k << value << "\n";
}

}  // namespace

int run_status(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl status",
      "Check the server: health, readiness and version (public), and with an API key the\n"
      "dashboard summary. Exits 0 when the server is healthy and ready, 1 otherwise.",
      {},
      {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  auto client = connect(*inv, exit_code);
  if (!client) return exit_code;

  // Health first: when nothing answers there is nothing else to ask.
  auto health = client->get("/health");
  if (!health) {
    std::cerr << "error: " << health.error().message << "\n";
    return exit_transport;
  }
  auto answer = [&client](const std::string& path) {
    auto r = client->get(path);
    return r ? std::optional<api_response>(*r) : std::nullopt;
  };
  const std::optional<api_response> ready = answer("/ready");
  const std::optional<api_response> version = answer("/api/v1/version");
  std::optional<api_response> summary;
  if (client->has_api_key()) summary = answer("/api/v1/stats/summary");

  const bool healthy = health->status == 200 && ready && ready->status == 200;
  // 404: the server predates the endpoint. Anything else (401, 500) is worth an exit code.
  const bool summary_failed = summary && summary->status != 200 && summary->status != 404;

  if (inv->format == output_format::json) {
    events::json_object out;
    out.set("server", client->server_url());
    auto put = [&out](const char* key, const std::optional<api_response>& r) {
      out.set_null(key);
      if (r && r->status == 200) out.set_raw(key, r->body);
    };
    put("health", *health);
    put("ready", ready);
    put("version", version);
    put("summary", summary);
    std::cout << out.dump() << "\n";
  } else {
    print_line("server", client->server_url());
    print_line("health", status_line(*health));
    print_line("ready", ready ? status_line(*ready) : "no answer");
    print_line("version", version ? version_line(*version) : "no answer");
    if (!client->has_api_key()) {
      print_line("summary", "skipped (no API key; set CERTCTL_API_KEY)");
    } else if (!summary) {
      print_line("summary", "no answer");
    } else if (summary->status == 404) {
      print_line("summary", "not available on this server");
    } else if (auto s = events::json_object::parse(summary->body); s && summary->status == 200) {
      for (const auto& [k, v] : summary_lines(*s)) print_line(k, v);
    }
  }
  if (summary_failed) std::cerr << "error: summary: " << describe_api_error(*summary) << "\n";
  return healthy && !summary_failed ? 0 : exit_api_error;
}

}  // namespace certctl::client
