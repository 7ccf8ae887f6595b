#include "gateways/http/health_routes.hpp"

#include <memory>

#include "gateways/http/json.hpp"

namespace certctl::gateways::http {

std::string compiler_identity() {
#if defined(__clang__)
  return "clang++ " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " + std::to_string(__GNUC__) + "." + std::to_string(__GNUC_MINOR__) + "." +
         std::to_string(__GNUC_PATCHLEVEL__);
#else
  return "c++";
#endif
}

void add_health_routes(router& r, health_options options) {
  r.add("GET", "/health", role::none,
        [](request_context&) { return json_response(json_object_of("status", "healthy")); });

  auto check = std::move(options.ready_check);
  r.add("GET", "/ready", role::none, [check](request_context&) {
    const readiness state = check ? check() : readiness{};
    if (!state.ready) {
      return error_response(
          503, "not ready" + (state.message.empty() ? std::string() : ": " + state.message));
    }
    return json_response(json_object_of("status", "ready"));
  });

  // Rendered once: the identity cannot change while the process runs.
  version_info v = std::move(options.version);
  if (v.toolchain.empty()) v.toolchain = compiler_identity();
  json_writer w;
  w.begin_object()
      .field("version", v.version)
      .field("commit", v.commit)
      .field("modified", v.modified)
      .field("build_time", v.build_time)
      .field("go_version", v.toolchain)
      .end_object();
  auto body = std::make_shared<const std::string>(w.str());
  r.add("GET", "/api/v1/version", role::none,
        [body](request_context&) { return json_response(*body); });
}

}  // namespace certctl::gateways::http
