#include "actors/workflows/issuer_resolver.hpp"

#include <map>
#include <mutex>

#include "events/json.hpp"

namespace certctl::actors {

certctl::result<std::unique_ptr<connectors::ca_hierarchy>, std::string> open_hierarchy(
    const connectors::local_ca_config& ca_config, entity_runtime& runtime,
    crypto::key_store& keys) {
  auto root = connectors::load_root_material(ca_config);
  if (!root) return root.error().message;
  // The entity, not the read model: a retirement must stop signing at once.
  auto lookup = [&runtime](const std::string& id) -> std::optional<connectors::ca_record> {
    auto r = runtime.read("intermediate", id);
    if (!r) return std::nullopt;
    const auto& v = r->view;
    return connectors::ca_record{id,
                                 v.str("parent_ca_id"),
                                 v.str("status"),
                                 v.str("certificate_pem"),
                                 v.str("key_id"),
                                 v.str("ocsp_responder_url")};
  };
  auto h = connectors::ca_hierarchy::create(std::move(root).value(), keys, lookup,
                                            {ca_config.pki_base_url, ca_config.clock});
  if (!h) return h.error().message;
  return std::move(h).value();
}

issuer_resolver make_issuer_resolver(entity_runtime& runtime, connectors::ca_hierarchy& hierarchy) {
  struct cache {
    std::mutex mutex;
    std::map<std::string, std::unique_ptr<connectors::intermediate_issuer>> issuers;
  };
  auto issuers = std::make_shared<cache>();
  return [&runtime, &hierarchy, issuers](const issuance_task& t,
                                         std::string& error) -> connectors::issuer* {
    const std::string issuer_id = t.certificate.str("issuer_id");
    if (issuer_id.empty()) return nullptr;
    auto issuer = runtime.read("issuer", issuer_id);
    if (!issuer || issuer->view.str("type") != "GenericCA") return nullptr;
    auto config = events::json_object::parse(issuer->view.raw("config"));
    if (!config || !config->has("intermediate_id")) return nullptr;
    const std::string ica = config->str("intermediate_id");
    if (ica.empty()) {
      error = "issuer " + issuer_id + ": config.intermediate_id must be a non-empty string";
      return nullptr;
    }
    if (ica == hierarchy.root_id()) return nullptr;
    std::lock_guard<std::mutex> lock(issuers->mutex);
    auto& slot = issuers->issuers[ica];
    if (!slot) slot = std::make_unique<connectors::intermediate_issuer>(hierarchy, ica);
    return slot.get();
  };
}

}  // namespace certctl::actors
