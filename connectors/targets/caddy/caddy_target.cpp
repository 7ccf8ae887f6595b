// Caddy (connectors-reference "Target Connector: Caddy"), two modes:
//   api (default): write cert (leaf + chain) and key into cert_dir, then make Caddy re-read
//     them through its admin API: GET /config/ and POST /load of that same config with
//     Cache-Control: must-revalidate (a forced reload; the key never travels over the API).
//   file: write the files and run reload_command (default `caddy reload --config
//     /etc/caddy/Caddyfile --force`); Caddy does not watch certificate files by itself.
#include "connectors/builtin.hpp"
#include "connectors/targets/caddy/admin_api.hpp"
#include "connectors/targets/common/dir_files.hpp"
#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_caddy_target(connector_registry& registry,
                                                         const builtin_context& context) {
  target_registration r;
  r.type = "Caddy";
  r.description = "Caddy: cert and key files in cert_dir, reload via admin API or command";
  r.schema.fields = {
      {"mode", field_type::string, false, false, "\"api\" (default) or \"file\""},
      {"admin_api", field_type::string, false, false,
       "api mode: admin endpoint, default http://localhost:2019"},
      {"cert_dir", field_type::string, true, false, "directory of the files Caddy loads"},
      {"cert_file", field_type::string, false, false, "certificate + chain, default site.crt"},
      {"key_file", field_type::string, false, false, "private key (0600), default site.key"},
  };
  targets::add_common_fields(r.schema, true, true);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    auto bad = [&](const std::string& why) {
      return connector_error{connector_errc::invalid_config, "target " + s.id + ": " + why};
    };
    const std::string mode = s.config.str("mode", "api");
    if (mode != "api" && mode != "file")
      return bad("config.mode: must be \"api\" or \"file\", not \"" + mode + "\"");
    const bool api = mode == "api";
    auto options = targets::parse_common_options(
        "Caddy", s.id, s.config, "",
        api ? "" : "caddy reload --config /etc/caddy/Caddyfile --force", guard);
    if (!options) return options.error();
    if (api && !options->reload_argv.empty())
      return bad("config.reload_command: api mode reloads through admin_api; use mode \"file\"");
    auto dir = targets::path_field(s.id, s.config, "cert_dir");
    if (!dir) return dir.error();
    auto cert = targets::file_name_field(s.id, s.config, "cert_file", "site.crt");
    if (!cert) return cert.error();
    auto key = targets::file_name_field(s.id, s.config, "key_file", "site.key");
    if (!key) return key.error();
    if (*cert == *key) return bad("cert_file and key_file must differ");

    targets::file_target_hooks hooks;
    const std::string cert_path = *dir + "/" + *cert, key_path = *dir + "/" + *key;
    hooks.paths = {cert_path, key_path};
    hooks.leaf_path = cert_path;
    const std::string id = s.id;
    hooks.layout = [id, cert_path, key_path](const deployment_request& req)
        -> certctl::result<std::vector<targets::file_content>, connector_error> {
      if (auto ok = targets::check_request(id, req, true); !ok) return ok.error();
      return std::vector<targets::file_content>{
          {cert_path, targets::leaf_and_chain(req), targets::public_file_mode},
          {key_path, targets::pem_text(req.key_pem), targets::private_file_mode}};
    };
    if (api) {
      auto at = targets::parse_admin_url(s.config.str("admin_api", "http://localhost:2019"));
      if (!at) return bad("config.admin_api: " + at.error().message);
      const targets::admin_endpoint admin = *at;
      hooks.reload = [guard, admin]() -> certctl::result<done, std::string> {
        auto current = targets::caddy_current_config(*guard, admin);
        if (!current) return current.error().message;
        if (current->empty() || current->compare(0, 4, "null") == 0)
          return std::string("Caddy runs no configuration to reload");
        auto loaded = targets::caddy_force_load(*guard, admin, *current);
        if (!loaded) return loaded.error().message;
        return done{};
      };
      hooks.check = [guard, admin]() -> certctl::result<done, std::string> {
        auto current = targets::caddy_current_config(*guard, admin);
        if (!current) return current.error().message;
        return done{};
      };
    }
    return std::shared_ptr<target>(
        std::make_shared<targets::file_target>(std::move(*options), std::move(hooks)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
