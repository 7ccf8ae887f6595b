#pragma once
/// The deployment target interface (DESIGN §11): puts an issued certificate where a service
/// reads it (a web server's files, a key store, a cloud certificate manager) and proves it
/// took effect. Implementations are registered by type name (registry.hpp).
///
/// Where a target runs decides who calls it: `agent` targets run inside certctl-agent on the
/// host they serve (the private key never leaves that host), `proxy_agent` targets run in an
/// agent that manages a device it cannot be installed on (an appliance's API), `server`
/// targets run on the control plane and receive no private key.
///
///   validate() --ok--> deploy() --ok--> verify() --ok--> done
///                         |                |
///                       error           mismatch --> rollback(deployment_id)
///
/// Every call is synchronous and may block; callers run it on worker threads.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "connectors/connector_error.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

enum class target_location { agent, proxy_agent, server };

std::string_view to_string(target_location l);

/// One step of a deployment as it happened (write, validate, reload, verify, rollback), for
/// the job's record: the agent reports each to the server (job.step_recorded). `output` is
/// the step's message or command output (never file contents); the agent redacts it again.
struct deployment_step {
  std::string name;
  bool ok = false;
  std::int64_t duration_ms = 0;
  std::string output;
};

struct deployment_request {
  std::string certificate_id;
  std::string cert_pem;
  std::string chain_pem;  ///< issuer chain, issuing CA first
  /// Filled by the agent from its own key store; always empty on the server.
  std::string key_pem;
  std::map<std::string, std::string> metadata;  ///< context: environment, job id, ...
  /// Told about each step as it ends; optional (targets without inner steps never call it).
  std::function<void(const deployment_step&)> on_step;
};

struct deployment_result {
  std::string deployment_id;  ///< what rollback() takes
  std::string message;
  std::int64_t deployed_at_us = 0;
  bool unchanged = false;  ///< the target already held these exact bytes; nothing was written
};

struct verification_request {
  std::string certificate_id;
  std::string serial_hex;  ///< what the target must be serving now
};

struct verification_result {
  bool valid = false;      ///< the target serves serial_hex
  std::string serial_hex;  ///< what it actually serves ("" if nothing could be read)
  std::string message;
};

class target {
 public:
  virtual ~target() = default;

  virtual std::string_view type() const = 0;
  virtual const std::string& id() const = 0;
  virtual target_location location() const = 0;

  /// Checks what the schema cannot: paths exist and are writable, the peer answers, ...
  /// Changes nothing.
  virtual certctl::result<done, connector_error> validate() = 0;

  /// Installs the certificate (and key, on agents) and reloads the service.
  virtual certctl::result<deployment_result, connector_error> deploy(
      const deployment_request& request) = 0;

  /// Does the target serve what it should?
  virtual certctl::result<verification_result, connector_error> verify(
      const verification_request& request) = 0;

  /// Restores what was there before `deployment_id`.
  virtual certctl::result<done, connector_error> rollback(const std::string& deployment_id) = 0;
};

}  // namespace certctl::connectors
