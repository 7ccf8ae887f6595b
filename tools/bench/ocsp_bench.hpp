#pragma once
/// `certctl-bench ocsp`: OCSP responder throughput of a running server. C threads, each with
/// one keep-alive HTTP connection (TCP_NODELAY), POST real DER OCSPRequests (built with
/// OpenSSL from the issuer certificate and a list of known serials) for S seconds.

#include <string>
#include <vector>

namespace certctl::bench {

/// Exit codes: 0 every answer was a successful OCSP response, 1 some failed, 2 usage or setup
/// errors. The last line of standard output is exactly "ocsp_per_s=<number>".
int run_ocsp(const std::vector<std::string>& args);

}  // namespace certctl::bench
