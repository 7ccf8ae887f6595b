#pragma once
/// The agent end-to-end flow with real daemons (issue 12), shared by agent_nginx_test.cpp
/// (nginx, HAProxy, Apache), agent_services_test.cpp (Caddy, Postfix, Dovecot),
/// agent_keystore_ssh_test.cpp (Java keystores, SSH through a proxy agent) and
/// agent_deploy_jobs_test.cpp (steps, timeouts, server keys, a killed agent):
///
///   tls_daemon: a throwaway daemon on a loopback port with a boot certificate, and the config
///               of the certctl target that deploys to it (one subclass per target type)
///   deploy_through_the_agent: issue through the REST API -> the agent makes the key -> the
///               deployment follows -> the daemon serves it; a renewal is redeployed; a failing
///               validate command fails the job with the validator's words and the old
///               certificate keeps serving, its files unchanged.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "tests/connectors/targets/target_fixture.hpp"
#include "tests/integration/agent_process.hpp"
#include "tests/integration/api.hpp"

namespace certctl::integration {

namespace tt = certctl::testing::targets;

inline constexpr const char* agent_key = "it-agent-key-0123456789abcdef";

/// A loopback port in [first, last] nothing is bound to now, not handed out before by this
/// process (each test binary has its own range).
int port_in(int first, int last);

/// SHA-256 fingerprint (lower-case hex) of the certificate `command` prints as PEM; "" when
/// it prints none.
std::string fingerprint_of_output(const std::string& command);

/// A throwaway daemon (or file) that serves what its target deploys, and that target's config.
struct tls_daemon {
  tls_daemon(const std::string& dir, int port);
  virtual ~tls_daemon() = default;
  tls_daemon(const tls_daemon&) = delete;
  tls_daemon& operator=(const tls_daemon&) = delete;

  virtual std::string type() const = 0;  ///< the target type
  /// The target's config for this daemon; `validate` replaces the validate command.
  virtual std::string target_config(const std::string& validate = "") const = 0;
  /// The daemon's own config check run against `missing`, a file that does not exist.
  virtual std::string validate_command_for(const std::string& missing) const = 0;
  virtual std::string key_file() const = 0;   ///< the deployed private key
  virtual std::string cert_file() const = 0;  ///< the deployed certificate
  /// The fingerprint of what the daemon serves now (TLS on `port` unless overridden).
  virtual std::string served() const;
  /// served(), asked again for up to 10 s while it differs from `expected` (daemons reload
  /// asynchronously; HAProxy's former worker accepts for a moment).
  std::string eventually_served(const std::string& expected) const;

  std::string certs() const { return prefix + "/certs"; }
  /// The post-deploy check of a TLS target: the daemon must serve the new certificate.
  std::string verify() const;
  /// Waits for `port` (the daemon's); fails with `log` otherwise.
  void started(const std::string& log) const;

  std::string prefix;
  int port;
  tt::test_certificate boot;  ///< served until the first deployment
  std::unique_ptr<tt::daemon_process> daemon;
};

/// nginx serving <dir>/certs/{cert,key}.pem (cert followed by the chain); reloads with -s reload.
struct nginx_daemon : tls_daemon {
  nginx_daemon(const std::string& dir, int port);
  std::string type() const override { return "NGINX"; }
  std::string conf() const { return prefix + "/nginx.conf"; }
  std::string args() const;  ///< -p -c -e, for nginx -t and -s reload
  std::string target_config(const std::string& validate = "") const override;
  std::string validate_command_for(const std::string& missing) const override;
  std::string key_file() const override { return certs() + "/key.pem"; }
  std::string cert_file() const override { return certs() + "/cert.pem"; }
};

/// A server in agent keygen mode whose named keys include the agent's, bound to `agent_id`
/// (an agent key may call only its own agent's operations).
server_options agent_server_options(const std::string& agent_id = "agent-web");

/// The agent's flags for `server` (short intervals, loopback outbound allowed).
std::vector<std::string> agent_flags(const server_process& server, const std::string& agent_id,
                                     const std::string& key_dir);

/// The Deployment jobs of `cert`, newest first, once `count` of them are finished.
rapidjson::Document finished_deployments(api& client, const std::string& cert, size_t count);

/// The fingerprint of the certificate's newest version.
std::string current_fingerprint(api& client, const std::string& cert);

/// Every event in the log as one text (the /api/v1/events pages), or only those of `types`
/// (a comma list).
std::string whole_event_log(api& client, const std::string& types = "");

/// The whole flow against one daemon (see the file comment); `dir` is the test's temp dir.
/// Leaves the server's whole event log in <dir>/events.json, the job outcomes and steps in
/// <dir>/job-events.json.
void deploy_through_the_agent(tls_daemon& daemon, const std::string& dir);

/// The daemon's own folder inside the test's temp dir (0755: daemons drop privileges).
std::string daemon_dir(const std::string& test_dir);

}  // namespace certctl::integration
