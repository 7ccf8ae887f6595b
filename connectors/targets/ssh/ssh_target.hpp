#pragma once
/// The SSH target (type "SSH", location proxy_agent): deploys certificate, chain and key to a
/// host that runs no agent, over SSH/SFTP from a proxy agent in its network zone.
///
/// deploy():
///   connect (guard, host key, auth) -> read current files -> identical? -> unchanged
///     -> back up each file as <path>.certctl-bak.<id> (or an <...>.absent marker)
///     -> upload every file as <path>.certctl-tmp.<id>, fsync, chmod
///     -> journal <cert_path>.certctl-journal (names the deployment)
///     -> rename each over its target -> validate_command -> reload_command
///     -> post_deploy_verify (the endpoint serves the new leaf's fingerprint)
///     -> journal removed -> prune backups beyond `backups` generations
///   any failure after the first rename restores every file from its backup (and reloads
///   again when the reload had already run), so the host keeps the old set, never a mix.
///   A deployment that died half-way (agent killed, link lost) leaves its journal; the next
///   deploy() or rollback() first restores that deployment's backups and reloads.
/// rollback(id) restores the files backed up by deployment `id` and reloads.
/// verify() probes the post_deploy_verify endpoint, or else reads the remote certificate file,
/// and compares the serial.

#include <memory>
#include <mutex>
#include <string>

#include "connectors/targets/ssh/ssh_config.hpp"
#include "connectors/targets/target.hpp"
#include "infra/clock.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::ssh {

class ssh_target final : public target {
 public:
  ssh_target(std::string id, ssh_target_config config, net::outbound_guard guard,
             std::shared_ptr<const infra::clock> clock);

  std::string_view type() const override { return "SSH"; }
  const std::string& id() const override { return id_; }
  target_location location() const override { return target_location::proxy_agent; }

  certctl::result<done, connector_error> validate() override;
  certctl::result<deployment_result, connector_error> deploy(
      const deployment_request& request) override;
  certctl::result<verification_result, connector_error> verify(
      const verification_request& request) override;
  certctl::result<done, connector_error> rollback(const std::string& deployment_id) override;

 private:
  std::string id_;
  ssh_target_config config_;
  net::outbound_guard guard_;
  std::shared_ptr<const infra::clock> clock_;
  std::mutex mutex_;  ///< one deployment to this target at a time
};

}  // namespace certctl::connectors::ssh
