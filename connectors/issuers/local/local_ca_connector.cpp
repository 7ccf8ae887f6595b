#include "connectors/issuers/local/local_ca_connector.hpp"

#include "connectors/issuers/local/hierarchy.hpp"
#include "connectors/issuers/local/local_ca.hpp"

namespace certctl::connectors {

config_schema local_ca_schema() {
  return config_schema{{{"intermediate_id", field_type::string, false, false,
                         "tree mode: the intermediate CA that signs; absent: the local CA"}}};
}

certctl::result<done, std::string> register_local_ca_connector(connector_registry& registry,
                                                               const builtin_context& context) {
  if (context.local == nullptr && context.agent_side) return done{};  // agents sign nothing
  if (context.local == nullptr) return std::string("GenericCA needs the server's local CA");
  local_ca* ca = context.local;
  ca_hierarchy* hierarchy = context.hierarchy;
  issuer_registration r;
  r.type = std::string(ca->type());
  r.description =
      "the CA built into this server: self-signed root or operator sub-CA, with "
      "intermediate CAs in tree mode";
  r.schema = local_ca_schema();
  r.make =
      [ca, hierarchy](
          const connector_settings& s) -> certctl::result<std::shared_ptr<issuer>, issuer_error> {
    if (!s.config.has("intermediate_id") || s.config.str("intermediate_id") == ca->id() ||
        (hierarchy != nullptr && s.config.str("intermediate_id") == hierarchy->root_id()))
      // Not owned: the server's CA outlives every connector made from it.
      return std::shared_ptr<issuer>(std::shared_ptr<issuer>(), ca);
    const std::string ica = s.config.str("intermediate_id");
    if (ica.empty())
      return issuer_error{issuer_errc::invalid_request,
                          "issuer " + s.id + ": config.intermediate_id must be a non-empty string"};
    if (hierarchy == nullptr)
      return issuer_error{issuer_errc::unavailable,
                          "issuer " + s.id + ": intermediate CAs are not enabled on this server"};
    return std::shared_ptr<issuer>(std::make_shared<intermediate_issuer>(*hierarchy, ica));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
