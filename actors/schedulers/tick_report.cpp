#include "actors/schedulers/tick_report.hpp"

#include <map>

namespace certctl::schedulers {

std::string summary(const tick_report& report) {
  std::map<std::string, size_t> done;
  size_t failed = 0;
  std::string first_failure;
  for (const auto& a : report.actions) {
    if (!a.ok) {
      if (failed++ == 0) first_failure = a.command + " " + a.entity_id + ": " + a.detail;
    } else if (!a.duplicate) {
      ++done[a.command];
    }
  }
  std::string out = report.loop + ":";
  const char* sep = " ";
  for (const auto& [command, n] : done) {
    out += sep + std::to_string(n) + " " + command;
    sep = ", ";
  }
  if (done.empty()) out += " nothing new";
  if (failed > 0) out += "; " + std::to_string(failed) + " failed (first: " + first_failure + ")";
  for (const auto& e : report.errors) out += "; error: " + e;
  return out;
}

tick_report start_report(const std::string& loop, events::timestamp_us now) {
  tick_report r;
  r.loop = loop;
  // Events of one tick share a correlation id, so the audit trail groups them.
  r.correlation_id = "tick:" + loop + ":" + std::to_string(now);
  return r;
}

void record_action(tick_report& report, const std::string& name, const std::string& entity_id,
                   const actors::command_result& r, const std::string& detail) {
  loop_action a;
  a.command = name;
  a.entity_id = entity_id;
  a.ok = r.ok();
  a.duplicate = r.ok() && r->duplicate;
  a.detail = r.ok() ? detail : r.error().message;
  report.actions.push_back(std::move(a));
}

actors::command_result send_system_command(actors::entity_runtime& runtime, tick_report& report,
                                           const std::string& kind, const std::string& name,
                                           const std::string& entity_id, events::json_object body,
                                           const std::string& command_id,
                                           const std::string& detail) {
  domain::command c;
  c.name = name;
  c.entity_id = entity_id;
  c.body = std::move(body);
  c.principal = "system:" + report.loop;
  c.command_id = command_id;
  c.correlation_id = report.correlation_id;
  auto r = runtime.execute(kind, std::move(c));
  record_action(report, name, entity_id, r, detail);
  return r;
}

}  // namespace certctl::schedulers
