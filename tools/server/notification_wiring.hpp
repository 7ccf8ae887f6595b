#pragma once
/// Wiring of notifications (docs/notifications.md): the channels from the environment, the
/// expiry alert, delivery and digest loops on their own runner, their metrics, and the REST
/// context. main() makes one and starts it (a cluster runs it as a singleton: one node sends).

#include <memory>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/digest.hpp"
#include "actors/schedulers/notification_scheduler.hpp"
#include "connectors/notifiers/common/channel_set.hpp"
#include "connectors/registry.hpp"
#include "infra/clock.hpp"
#include "infra/config.hpp"
#include "infra/metrics/metrics.hpp"
#include "infra/sql/database.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::server {

class notification_services {
 public:
  /// Fails (naming the variable or channel) when an environment channel cannot be made.
  static result<std::unique_ptr<notification_services>, std::string> make(
      const infra::server_config& cfg, const connectors::connector_registry& registry,
      actors::entity_runtime& runtime, store::event_store& store, std::shared_ptr<sql::database> db,
      const infra::clock& clock, infra::metrics& metrics);
  ~notification_services();

  void start();
  void stop();
  /// nullptr when the server has no Email channel (the digest cannot be sent).
  schedulers::digest_sender* digest();
  /// "Email, Slack" or "none", for the start-up line.
  std::string channel_list() const;

 private:
  struct impl;
  explicit notification_services(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace certctl::server
