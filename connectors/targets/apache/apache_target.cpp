// Apache httpd (connectors-reference "Target Connector: Apache httpd"): certificate, chain and
// key files, `apachectl configtest` before `apachectl graceful` (both configurable). With
// chain_path set the chain is its own file (SSLCertificateChainFile, httpd < 2.4.8); without
// it the chain is appended to cert_path (SSLCertificateFile holds the chain since 2.4.8).
#include "connectors/builtin.hpp"
#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors {

certctl::result<done, std::string> register_apache_target(connector_registry& registry,
                                                          const builtin_context& context) {
  static const targets::pem_files_defaults defaults{"apachectl configtest", "apachectl graceful",
                                                    "", ""};
  target_registration r;
  r.type = "Apache";
  r.description = "Apache httpd: cert, chain and key files, configtest, graceful, TLS check";
  r.schema = targets::pem_files_schema(defaults);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s) {
    return targets::make_pem_files_target("Apache", s, defaults,
                                          targets::chain_policy::separate_when_set, guard);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
