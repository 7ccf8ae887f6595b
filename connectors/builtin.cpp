#include "connectors/builtin.hpp"

#include "connectors/issuers/local/local_ca_connector.hpp"

namespace certctl::connectors {

namespace {

using registrar = certctl::result<done, std::string> (*)(connector_registry&,
                                                         const builtin_context&);

/// One line per built-in connector, any kind.
const registrar builtin_connectors[] = {
    &register_local_ca_connector,  // issuer GenericCA
};

}  // namespace

certctl::result<done, std::string> register_builtin_connectors(connector_registry& registry,
                                                               const builtin_context& context) {
  for (registrar add : builtin_connectors)
    if (auto r = add(registry, context); !r) return r;
  return done{};
}

}  // namespace certctl::connectors
