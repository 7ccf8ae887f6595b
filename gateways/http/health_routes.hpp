#pragma once
/// The public operational routes of the reference API: `GET /health` (process is up),
/// `GET /ready` (dependencies are usable) and `GET /api/v1/version` (build identity).

#include <functional>
#include <string>

#include "gateways/http/router.hpp"

namespace certctl::gateways::http {

/// Readiness as the server sees it; `message` explains a "not ready".
struct readiness {
  bool ready = true;
  std::string message;
};

/// Build identity, rendered with the spec's field names. The spec's `go_version` names the
/// toolchain; we report the C++ compiler there (default: the compiler that built this file).
struct version_info {
  std::string version = "dev";
  std::string commit;
  bool modified = false;
  std::string build_time;  ///< RFC 3339 or empty
  std::string toolchain;   ///< empty -> compiler of this build, e.g. "g++ 12.2.0"
};

struct health_options {
  /// Called per /ready request (must be thread-safe and quick). Absent: always ready.
  std::function<readiness()> ready_check;
  version_info version;
};

/// Registers the three routes, all public:
///   GET /health          200 {"status": "healthy"}
///   GET /ready           200 {"status": "ready"}, or 503 {"error": "not ready: <message>", ...}
///   GET /api/v1/version  200 {"version", "commit", "modified", "build_time", "go_version"}
void add_health_routes(router& r, health_options options);

/// "g++ 12.2.0" / "clang++ 16.0.6": the compiler that built the gateway.
std::string compiler_identity();

}  // namespace certctl::gateways::http
