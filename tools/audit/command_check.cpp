#include "tools/audit/command_check.hpp"

#include "infra/sql/database.hpp"

namespace certctl::audit {

result<command_check_report, std::string> check_commands(const std::string& store_url,
                                                         std::int64_t head) {
  sql::database_options options;
  options.pool_size = 1;
  auto db = sql::database::open(store_url, options);
  if (!db) return "open the command table: " + db.error().message;
  command_check_report report;
  auto count = (*db)->query("SELECT COUNT(*) FROM commands");
  if (!count) return "read the command table: " + count.error().message;
  report.commands_checked = count->empty() ? 0 : count->front().int64(0).value_or(0);

  // A position that names no event, or another command's event.
  auto wrong = (*db)->query(
      "SELECT c.command_id, c.position, e.causation_id FROM commands c "
      "LEFT JOIN events e ON e.position = c.position "
      "WHERE c.position > 0 AND (e.position IS NULL OR c.position > ? OR "
      "e.causation_id <> c.command_id) ORDER BY c.position LIMIT 1",
      {head});
  if (!wrong) return "check the command table: " + wrong.error().message;
  if (!wrong->empty()) {
    const auto& r = wrong->front();
    const std::string id = r.text(0).value_or("");
    const std::string at = std::to_string(r.int64(1).value_or(0));
    const auto caused_by = r.text(2);
    report.problem =
        "command " + id + " claims position " + at + ", where " +
        (caused_by ? "the event was caused by " + *caused_by : std::string("the log has no event"));
    return report;
  }
  // Events of a recorded command after the position its row names.
  auto beyond = (*db)->query(
      "SELECT c.command_id, c.position, e.position FROM commands c "
      "JOIN events e ON e.causation_id = c.command_id "
      "WHERE e.position > c.position ORDER BY e.position LIMIT 1");
  if (!beyond) return "check the command table: " + beyond.error().message;
  if (!beyond->empty()) {
    const auto& r = beyond->front();
    report.problem = "command " + r.text(0).value_or("") + " claims position " +
                     std::to_string(r.int64(1).value_or(0)) + ", but its event at position " +
                     std::to_string(r.int64(2).value_or(0)) + " lies beyond it";
  }
  return report;
}

}  // namespace certctl::audit
