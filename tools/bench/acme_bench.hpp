#pragma once
/// `certctl-bench acme`: complete ACME (RFC 8555) order flows against any ACME server (ours or
/// pebble). C threads, each with one keep-alive TLS connection and its own ES256 account
/// (new-account once), share N orders: new-order, authz POST-as-GET (answering the http-01
/// challenge when the authorization is pending, for servers that always validate), finalize
/// with a fresh P-256 CSR, polling the order, certificate download.

#include <string>
#include <vector>

namespace certctl::bench {

/// Exit codes: 0 every order was downloaded, 1 some failed, 2 usage or setup errors. The last
/// line of standard output is exactly "acme_orders_per_s=<number>".
int run_acme(const std::vector<std::string>& args);

}  // namespace certctl::bench
