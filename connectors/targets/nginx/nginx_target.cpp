// NGINX (connectors-reference "Target Connector: NGINX"): certificate, optional chain and key
// files, `nginx -t` before `systemctl reload nginx` (both configurable), the shared primitive
// for everything else (connectors/targets/common). ssl_certificate must hold the whole chain,
// so cert_path always gets leaf + chain; chain_path, when set, gets the chain alone too (for
// ssl_trusted_certificate / OCSP stapling).
#include "connectors/builtin.hpp"
#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_nginx_target(connector_registry& registry,
                                                         const builtin_context& context) {
  static const targets::pem_files_defaults defaults{"nginx -t", "systemctl reload nginx", "", ""};
  target_registration r;
  r.type = "NGINX";
  r.description = "NGINX: cert (with chain), chain and key files, nginx -t, reload, TLS check";
  r.schema = targets::pem_files_schema(defaults);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s) {
    return targets::make_pem_files_target("NGINX", s, defaults,
                                          targets::chain_policy::full_chain_in_cert, guard);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
