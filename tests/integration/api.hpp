#pragma once
/// A thin REST client for the tests: one keep-alive HTTPS connection per object, JSON bodies
/// parsed with RapidJSON, and (when CERTCTL_IT_CAPTURE_DIR is set) every JSON response written
/// to that directory so spec_check.py can validate it against the OpenAPI schemas.

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>

#include "tests/integration/server_process.hpp"

namespace certctl::integration {

struct api_response {
  int status = 0;  ///< 0 when the request failed at the transport level
  std::string body;
  httplib::Headers headers;
  std::string transport_error;

  /// The body parsed as JSON; a test failure when it does not parse.
  rapidjson::Document json() const;
  std::string header(const std::string& name) const;
  /// X-Certctl-Position of a write, 0 when absent.
  std::int64_t position() const;
  /// "status 201: {...}" for failure messages.
  std::string describe() const;
};

class api {
 public:
  explicit api(const server_process& server, const std::string& api_key = admin_key);

  /// GET; a non-zero `wait_position` sends X-Certctl-Wait-For-Position.
  api_response get(const std::string& path, std::int64_t wait_position = 0);
  api_response post(const std::string& path, const std::string& body,
                    const std::string& content_type = "application/json");
  api_response put(const std::string& path, const std::string& body);
  api_response del(const std::string& path);

 private:
  api_response finish(const std::string& method, const std::string& path, httplib::Result r);
  std::unique_ptr<httplib::SSLClient> client_;
};

/// The string member `key` of `v`, or "" when absent or not a string.
std::string str(const rapidjson::Value& v, const char* key);

/// Polls GET /api/v1/certificates/{id} (every 20 ms, up to `timeout`) until its status is one
/// of `wanted`; returns the last document. Fails the test on a non-200 answer.
rapidjson::Document wait_for_certificate(
    api& client, const std::string& id, std::initializer_list<const char*> wanted,
    std::chrono::milliseconds timeout = std::chrono::seconds(30), std::int64_t wait_position = 0);

/// Exactly-once checks after a fault: certificate `id` has one version, and none of its serials
/// is already in `serial_owner` (serial -> certificate id), which it extends. Records test
/// failures; returns true when there is exactly one version.
bool issued_once_with_unique_serials(api& client, const std::string& id,
                                     std::map<std::string, std::string>& serial_owner);

/// Body of a certificate create request (references need not exist: the API does not check).
std::string certificate_body(const std::string& name, const std::string& common_name,
                             std::initializer_list<const char*> sans,
                             const std::string& renewal_policy_id = "rp-default");

}  // namespace certctl::integration
