// Envoy (connectors-reference "Target Connector: Envoy"): certificate and key files in
// cert_dir that Envoy reads through static `filename` references or, with sds_config, through
// file-based SDS: `<cert_dir>/sds.json` holds one tls_certificate Secret (DiscoveryResponse
// shape, v3 types) naming the files. Envoy watches that file for moves (path_config_source;
// with watched_directory = cert_dir, any move in the directory), and every deployment
// replaces all files together, sds.json last, so the watcher fires and reads the new pair.
#include "connectors/builtin.hpp"
#include "connectors/targets/common/dir_files.hpp"
#include "connectors/targets/common/pem_files.hpp"
#include "events/json.hpp"

namespace certctl::connectors {
namespace {

constexpr char secret_type[] =
    "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

std::string sds_document(const std::string& secret_name, const std::string& cert,
                         const std::string& key) {
  events::json_object chain, private_key, tls, secret;
  chain.set("filename", cert);
  private_key.set("filename", key);
  tls.set_raw("certificate_chain", chain.dump());
  tls.set_raw("private_key", private_key.dump());
  secret.set("@type", secret_type);
  secret.set("name", secret_name);
  secret.set_raw("tls_certificate", tls.dump());
  events::json_object doc;
  doc.set_raw("resources", "[" + secret.dump() + "]");
  return doc.dump() + "\n";
}

}  // namespace

certctl::result<done, std::string> register_envoy_target(connector_registry& registry,
                                                         const builtin_context& context) {
  target_registration r;
  r.type = "Envoy";
  r.description = "Envoy: cert and key files, optionally a file-based SDS sds.json naming them";
  r.schema.fields = {
      {"cert_dir", field_type::string, true, false, "directory Envoy reads the files from"},
      {"cert_filename", field_type::string, false, false,
       "certificate (+ chain unless chain_filename), default cert.pem"},
      {"key_filename", field_type::string, false, false, "private key (0600), default key.pem"},
      {"chain_filename", field_type::string, false, false,
       "write the chain to this file instead of appending it to the certificate"},
      {"sds_config", field_type::boolean, false, false,
       "also write <cert_dir>/sds.json for file-based SDS (default false)"},
      {"sds_secret_name", field_type::string, false, false,
       "the Secret's name in sds.json, default server_cert"},
  };
  targets::add_common_fields(r.schema, true, true);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    auto bad = [&](const std::string& why) {
      return connector_error{connector_errc::invalid_config, "target " + s.id + ": " + why};
    };
    auto options = targets::parse_common_options("Envoy", s.id, s.config, "", "", guard);
    if (!options) return options.error();
    auto dir = targets::path_field(s.id, s.config, "cert_dir");
    if (!dir) return dir.error();
    auto cert = targets::file_name_field(s.id, s.config, "cert_filename", "cert.pem");
    if (!cert) return cert.error();
    auto key = targets::file_name_field(s.id, s.config, "key_filename", "key.pem");
    if (!key) return key.error();
    std::string chain;
    if (!s.config.str("chain_filename").empty()) {
      auto c = targets::file_name_field(s.id, s.config, "chain_filename", "");
      if (!c) return c.error();
      chain = *c;
    }
    const bool sds = s.config.boolean("sds_config", false);
    const std::string secret_name = s.config.str("sds_secret_name", "server_cert");
    if (sds && secret_name.empty()) return bad("config.sds_secret_name: must not be empty");
    for (const auto& n : {*cert, *key, chain})
      if (!n.empty() && ((n == *cert) + (n == *key) + (n == chain) > 1 || (sds && n == "sds.json")))
        return bad("the file names must differ (and not be sds.json)");

    targets::file_target_hooks hooks;
    const std::string cert_path = *dir + "/" + *cert, key_path = *dir + "/" + *key;
    const std::string chain_path = chain.empty() ? std::string() : *dir + "/" + chain;
    const std::string sds_path = sds ? *dir + "/sds.json" : std::string();
    hooks.paths = {cert_path, key_path};
    if (!chain_path.empty()) hooks.paths.push_back(chain_path);
    if (sds) hooks.paths.push_back(sds_path);
    hooks.leaf_path = cert_path;
    const std::string id = s.id;
    hooks.layout = [=](const deployment_request& req)
        -> certctl::result<std::vector<targets::file_content>, connector_error> {
      if (auto ok = targets::check_request(id, req, true); !ok) return ok.error();
      std::vector<targets::file_content> files;
      files.push_back(
          {cert_path,
           chain_path.empty() ? targets::leaf_and_chain(req) : targets::pem_text(req.cert_pem),
           targets::public_file_mode});
      if (!chain_path.empty())
        files.push_back({chain_path, targets::pem_text(req.chain_pem), targets::public_file_mode});
      files.push_back({key_path, targets::pem_text(req.key_pem), targets::private_file_mode});
      if (sds)  // last: when Envoy sees it move, the files it names are in place
        files.push_back(
            {sds_path, sds_document(secret_name, cert_path, key_path), targets::public_file_mode});
      return files;
    };
    return std::shared_ptr<target>(
        std::make_shared<targets::file_target>(std::move(*options), std::move(hooks)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
