#include "actors/workflows/issuer_resolver.hpp"

#include <map>
#include <memory>
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

issuer_lookup make_issuer_lookup(entity_runtime& runtime, const connectors::config_service& configs,
                                 std::chrono::milliseconds reread_after) {
  struct cache {
    std::mutex mutex;
    /// "<id>\n<type>\n<stored config>" -> its connector; an edited config is a new key, so a
    /// task never signs with a connector built from an outdated config.
    std::map<std::string, std::shared_ptr<connectors::issuer>> made;
    /// issuer id -> its last view and when it was read (reread_after > 0 only).
    std::map<std::string, std::pair<events::json_object, std::chrono::steady_clock::time_point>>
        views;
  };
  auto made = std::make_shared<cache>();
  return [&runtime, &configs, made, reread_after](const std::string& issuer_id)
             -> certctl::result<std::shared_ptr<connectors::issuer>, std::string> {
    if (issuer_id.empty()) return std::shared_ptr<connectors::issuer>();
    events::json_object view;
    bool fresh = false;
    const auto now = std::chrono::steady_clock::now();
    if (reread_after.count() > 0) {
      std::lock_guard<std::mutex> lock(made->mutex);
      auto it = made->views.find(issuer_id);
      if (it != made->views.end() && now - it->second.second < reread_after) {
        view = it->second.first;
        fresh = true;
      }
    }
    if (!fresh) {
      auto issuer = runtime.read("issuer", issuer_id);
      if (!issuer) return std::shared_ptr<connectors::issuer>();
      view = issuer->view;
      if (reread_after.count() > 0) {
        std::lock_guard<std::mutex> lock(made->mutex);
        made->views[issuer_id] = {view, now};
      }
    }
    const std::string type = view.str("type");
    events::json_object stored;
    if (view.is_object("config"))
      stored = events::json_object::parse(view.raw("config")).value_or(events::json_object{});
    const std::string key = issuer_id + "\n" + type + "\n" + stored.dump();
    std::lock_guard<std::mutex> lock(made->mutex);
    auto& slot = made->made[key];
    if (!slot) {
      auto connector = configs.make_issuer(issuer_id, type, stored);
      if (!connector) {
        made->made.erase(key);
        return "issuer " + issuer_id + ": " + connector.error().message;
      }
      slot = std::move(connector).value();
    }
    return slot;
  };
}

issuer_resolver make_issuer_resolver(issuer_lookup lookup) {
  return [lookup = std::move(lookup)](const issuance_task& t,
                                      std::string& error) -> connectors::issuer* {
    auto found = lookup(t.certificate.str("issuer_id"));
    if (!found) {
      error = found.error();
      return nullptr;
    }
    // The cache keeps the connector alive for as long as the lookup lives.
    return found->get();
  };
}

issuer_resolver make_issuer_resolver(entity_runtime& runtime,
                                     const connectors::config_service& configs) {
  return make_issuer_resolver(make_issuer_lookup(runtime, configs));
}

renewal_window_lookup make_renewal_window_lookup(entity_runtime& runtime, issuer_resolver resolver,
                                                 current_pem_lookup pem_of) {
  return [&runtime, resolver = std::move(resolver),
          pem_of = std::move(pem_of)](const std::string& certificate_id)
             -> certctl::result<std::optional<connectors::renewal_window>, std::string> {
    const std::optional<connectors::renewal_window> none;
    auto cert = runtime.read("certificate", certificate_id);
    if (!cert) return none;
    issuance_task t;
    t.certificate_id = certificate_id;
    t.certificate = cert->view;
    std::string why;
    connectors::issuer* issuer = resolver ? resolver(t, why) : nullptr;
    if (issuer == nullptr) return none;  // the default issuer, or none that works (issuance says)
    auto pem = pem_of(certificate_id);
    if (!pem) return none;
    auto w = issuer->renewal_window_of(*pem);
    if (!w) return "issuer " + issuer->id() + ": " + w.error().message;
    return std::move(w).value();
  };
}

}  // namespace certctl::actors
