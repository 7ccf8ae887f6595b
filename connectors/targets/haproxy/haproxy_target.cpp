// HAProxy (connectors-reference "Target Connector: HAProxy"): one combined PEM (certificate,
// chain, private key; 0600 because it holds the key), an optional `haproxy -c -f ...` check,
// then either a reload command or, with `runtime_api` set, an in-memory swap over the runtime
// API (set ssl cert + commit ssl cert) that needs no reload at all. The file is written in
// both modes, so a later restart serves the same certificate.
#include "connectors/builtin.hpp"
#include "connectors/targets/common/atomic_files.hpp"
#include "connectors/targets/common/pem_files.hpp"
#include "connectors/targets/haproxy/runtime_api.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_haproxy_target(connector_registry& registry,
                                                           const builtin_context& context) {
  target_registration r;
  r.type = "HAProxy";
  r.description =
      "HAProxy: combined PEM (cert, chain, key), haproxy -c, reload or runtime API, TLS check";
  r.schema.fields.push_back({"pem_path", field_type::string, true, false,
                             "the combined PEM HAProxy loads with `crt` (0600)"});
  r.schema.fields.push_back(
      {"runtime_api", field_type::string, false, false,
       "stats socket (path, or host:port) to swap the certificate without reload"});
  targets::add_common_fields(r.schema, true, true);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    const bool runtime = !s.config.str("runtime_api").empty();
    auto options = targets::parse_common_options("HAProxy", s.id, s.config, "",
                                                 runtime ? "" : "systemctl reload haproxy", guard);
    if (!options) return options.error();
    if (runtime && !options->reload_argv.empty())
      return connector_error{
          connector_errc::invalid_config,
          "target " + s.id + ": set either runtime_api or reload_command, not both"};
    auto pem = targets::path_field(s.id, s.config, "pem_path");
    if (!pem) return pem.error();
    targets::file_target_hooks hooks;
    hooks.paths = {*pem};
    hooks.leaf_path = *pem;
    const std::string id = s.id, pem_path = *pem;
    hooks.layout = [id, pem_path](const deployment_request& req)
        -> certctl::result<std::vector<targets::file_content>, connector_error> {
      if (auto ok = targets::check_request(id, req, true); !ok) return ok.error();
      return std::vector<targets::file_content>{
          {pem_path, targets::leaf_and_chain(req) + targets::pem_text(req.key_pem),
           targets::private_file_mode}};
    };
    if (runtime) {
      const std::string api = s.config.str("runtime_api");
      // Pushes whatever the file holds now: the new PEM after a write, the old one after a
      // restore, so rollback swaps HAProxy back the same way.
      hooks.reload = [guard, api, pem_path]() -> certctl::result<done, std::string> {
        std::string current;
        if (!targets::read_file(pem_path, current)) return "cannot read " + pem_path;
        return targets::runtime_api_update_cert(*guard, api, pem_path, current);
      };
    }
    return std::shared_ptr<target>(
        std::make_shared<targets::file_target>(std::move(*options), std::move(hooks)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
