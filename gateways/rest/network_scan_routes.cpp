#include "gateways/rest/network_scan_routes.hpp"

#include <cstdio>

#include "actors/schedulers/network_scan.hpp"
#include "gateways/rest/command_support.hpp"

namespace certctl::gateways::rest {
using http::role;

void add_network_scan_routes(http::router& r, network_scan_context& ctx) {
  // The reference answers 202 with the DiscoveryScan when certificates were found and 200
  // with a status message when none were; the scan has finished either way.
  r.add("POST", "/api/v1/network-scan-targets/{id}/scan", role::operator_,
        [&ctx](http::request_context& c) {
          auto outcome = ctx.scanner.scan(c.path_param("id"), principal_of(c), c.request_id);
          if (outcome.not_found)
            return http::error_response(404,
                                        "network_scan_target " + c.path_param("id") + " not found");
          if (!outcome.ok) {
            std::fprintf(stderr, "network scan %s: %s\n", c.path_param("id").c_str(),
                         outcome.error.c_str());
            return http::error_response(500, "the scan could not be recorded");
          }
          auto body = outcome.scan;
          body.set("probes", outcome.probes)
              .set("addresses_refused", outcome.refused)
              .set("tls_endpoints", outcome.tls_endpoints);
          http::response resp;
          if (outcome.scan.int64("certificates_found") > 0) {
            resp = http::json_response(body.dump(), 202);
          } else {
            events::json_object none;
            none.set("status", "completed")
                .set("message", "scan " + outcome.scan.str("id") + " found no certificates (" +
                                    std::to_string(outcome.probes) + " probes, " +
                                    std::to_string(outcome.refused) +
                                    " addresses refused by the outbound guard)");
            resp = http::json_response(none.dump(), 200);
          }
          if (outcome.position > 0)
            resp.with_header("X-Certctl-Position", std::to_string(outcome.position));
          return resp;
        });
}

}  // namespace certctl::gateways::rest
