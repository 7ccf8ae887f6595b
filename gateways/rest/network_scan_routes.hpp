#pragma once
/// On-demand network scans (docs/discovery.md; the reference's Network Scan operations):
/// POST /api/v1/network-scan-targets/{id}/scan. The scan target's CRUD is the generic
/// resource routes (read_routes / write_routes, kind network_scan_target); the scan itself
/// runs in actors/schedulers/network_scan, its probes on the scanner's bounded pool.

#include "gateways/http/router.hpp"

namespace certctl::schedulers {
class network_scanner;
}

namespace certctl::gateways::rest {

struct network_scan_context {
  schedulers::network_scanner& scanner;
};

void add_network_scan_routes(gateways::http::router& r, network_scan_context& ctx);

}  // namespace certctl::gateways::rest
