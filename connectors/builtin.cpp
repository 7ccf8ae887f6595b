#include "connectors/builtin.hpp"

namespace certctl::connectors {

// Declarations of the registration functions named in builtin_connectors.def, so that adding
// a connector is its folder plus one line in that file (no include to add here).
#define CERTCTL_CONNECTOR(fn) \
  certctl::result<done, std::string> fn(connector_registry&, const builtin_context&);
#include "connectors/builtin_connectors.def"
#undef CERTCTL_CONNECTOR

namespace {

using registrar = certctl::result<done, std::string> (*)(connector_registry&,
                                                         const builtin_context&);

const registrar builtin_connectors[] = {
#define CERTCTL_CONNECTOR(fn) &fn,
#include "connectors/builtin_connectors.def"
#undef CERTCTL_CONNECTOR
};

}  // namespace

certctl::result<done, std::string> register_builtin_connectors(connector_registry& registry,
                                                               const builtin_context& context) {
  for (registrar add : builtin_connectors)
    if (auto r = add(registry, context); !r) return r;
  return done{};
}

}  // namespace certctl::connectors
