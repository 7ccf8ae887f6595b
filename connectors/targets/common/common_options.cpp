// The config fields every file-based target shares (file_target.hpp), in one place so that
// NGINX, Apache, HAProxy and the others name and check them the same way.
#include <utility>

#include "connectors/targets/common/command.hpp"
#include "connectors/targets/common/file_target.hpp"

namespace certctl::connectors::targets {
namespace {

connector_error bad(const std::string& id, const std::string& field, const std::string& why) {
  return connector_error{connector_errc::invalid_config,
                         "target " + id + ": config." + field + ": " + why};
}

/// "10", "10s", "500ms" -> milliseconds; -1 when unreadable.
std::int64_t duration_ms(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 9) return -1;
  const std::int64_t n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "ms") return n;
  if (unit == "m") return n * 60000;
  return -1;
}

certctl::result<std::vector<std::string>, connector_error> command_field(
    const std::string& id, const events::json_object& config, const char* field,
    const std::string& fallback) {
  if (!config.has(field) || config.is_null(field)) {
    if (fallback.empty()) return std::vector<std::string>{};
    auto argv = parse_command(fallback);
    if (!argv) return bad(id, field, argv.error());
    return std::move(*argv);
  }
  const std::string text = config.str(field);
  if (text.empty()) return std::vector<std::string>{};  // "" switches the step off
  auto argv = parse_command(text);
  if (!argv) return bad(id, field, argv.error());
  return std::move(*argv);
}

}  // namespace

void add_common_fields(config_schema& schema, bool with_validate, bool with_reload) {
  if (with_validate)
    schema.fields.push_back(
        {"validate_command", field_type::string, false, false,
         "checks the configuration before reload; argv, no shell; \"\" = none"});
  if (with_reload)
    schema.fields.push_back({"reload_command", field_type::string, false, false,
                             "makes the service read the new files; argv, no shell"});
  schema.fields.push_back({"backup_retention", field_type::integer, false, false,
                           "backups kept per file (default 3; -1 keeps all)"});
  schema.fields.push_back({"command_timeout_seconds", field_type::integer, false, false,
                           "limit for each validate/reload command (default 60)"});
  schema.fields.push_back(
      {"post_deploy_verify", field_type::object, false, false,
       "{enabled, endpoint host:port, server_name, timeout}: check the served certificate"});
}

certctl::result<file_target_options, connector_error> parse_common_options(
    const std::string& type, const std::string& id, const events::json_object& config,
    const std::string& default_validate, const std::string& default_reload,
    std::shared_ptr<const net::outbound_guard> guard) {
  file_target_options o;
  o.type = type;
  o.id = id;
  o.guard = std::move(guard);
  auto validate = command_field(id, config, "validate_command", default_validate);
  if (!validate) return validate.error();
  o.validate_argv = std::move(*validate);
  auto reload = command_field(id, config, "reload_command", default_reload);
  if (!reload) return reload.error();
  o.reload_argv = std::move(*reload);

  const std::int64_t keep = config.int64("backup_retention", 3);
  if (keep < -1 || keep > 1000) return bad(id, "backup_retention", "must be -1..1000");
  o.keep_backups = keep == 0 ? 3 : static_cast<int>(keep);
  const std::int64_t timeout = config.int64("command_timeout_seconds", 60);
  if (timeout < 1 || timeout > 3600) return bad(id, "command_timeout_seconds", "must be 1..3600");
  o.command_timeout = std::chrono::seconds(timeout);

  if (config.is_object("post_deploy_verify")) {
    auto v = events::json_object::parse(config.raw("post_deploy_verify"));
    if (!v) return bad(id, "post_deploy_verify", "not an object");
    for (const auto& k : v->keys())
      if (k != "enabled" && k != "endpoint" && k != "server_name" && k != "timeout")
        return bad(id, "post_deploy_verify." + k, "unknown field");
    if (v->has("enabled") && !v->is_bool("enabled"))
      return bad(id, "post_deploy_verify.enabled", "must be a boolean");
    if (v->boolean("enabled", true)) {
      if (!v->is_string("endpoint"))
        return bad(id, "post_deploy_verify.endpoint", "required when enabled, host:port");
      auto at = parse_endpoint(v->str("endpoint"));
      if (!at) return bad(id, "post_deploy_verify.endpoint", at.error());
      at->server_name = v->str("server_name");
      if (v->has("timeout")) {
        const std::int64_t ms =
            v->is_int("timeout") ? v->int64("timeout") * 1000 : duration_ms(v->str("timeout"));
        if (ms < 100 || ms > 600000)
          return bad(id, "post_deploy_verify.timeout", "must be 100ms..600s (\"10s\" or 10)");
        at->timeout = std::chrono::milliseconds(ms);
      }
      o.verify = std::move(*at);
    }
  }
  return o;
}

certctl::result<std::string, connector_error> path_field(const std::string& id,
                                                         const events::json_object& config,
                                                         const char* field,
                                                         const std::string& fallback) {
  const std::string path = config.str(field, fallback);
  if (path.empty()) return bad(id, field, "a path is required");
  if (auto ok = check_target_path(path); !ok) return bad(id, field, ok.error());
  return path;
}

}  // namespace certctl::connectors::targets
