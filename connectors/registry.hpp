#pragma once
/// The connector registry (DESIGN §11): every connector registers a type name, a one-line
/// description, a configuration schema (with its secret fields) and a factory, under one of
/// four kinds (issuer, target, notifier, discovery source). The API validates configs against
/// the schema, the sealing service (config_service.hpp) seals the secret fields, and the
/// factory builds a working connector from a validated config with its secrets opened.
///
/// Registration is explicit, not by static initialisers: builtin.cpp lists every built-in
/// connector once (static libraries drop unreferenced self-registering objects), and tests
/// register fakes into their own registry. A registry is filled at start and read-only after,
/// so lookups need no lock.

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/config_schema.hpp"
#include "connectors/connector_error.hpp"
#include "connectors/discovery/discovery_source.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/notifiers/notifier.hpp"
#include "connectors/targets/target.hpp"
#include "events/json.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

enum class connector_kind { issuer, target, notifier, discovery };

/// "issuer", "target", "notifier", "discovery source".
std::string_view to_string(connector_kind k);

/// What a factory gets: the entity's id and its config, valid by the schema, secrets in clear.
/// The factory keeps what it needs; the settings do not outlive the call.
struct connector_settings {
  std::string id;
  events::json_object config;
};

using issuer_factory = std::function<certctl::result<std::shared_ptr<issuer>, issuer_error>(
    const connector_settings&)>;
using target_factory = std::function<certctl::result<std::shared_ptr<target>, connector_error>(
    const connector_settings&)>;
using notifier_factory = std::function<certctl::result<std::shared_ptr<notifier>, connector_error>(
    const connector_settings&)>;
using discovery_factory =
    std::function<certctl::result<std::shared_ptr<discovery_source>, connector_error>(
        const connector_settings&)>;

template <class Factory>
struct connector_registration {
  std::string type;         ///< e.g. "GenericCA"; unique within its kind
  std::string description;  ///< one line
  config_schema schema;
  Factory make;
};

using issuer_registration = connector_registration<issuer_factory>;
using target_registration = connector_registration<target_factory>;
using notifier_registration = connector_registration<notifier_factory>;
using discovery_registration = connector_registration<discovery_factory>;

class connector_registry {
 public:
  /// Refuses an empty or duplicate type, a missing factory and an inconsistent schema, naming
  /// the type, so a bad registration fails the server at start.
  certctl::result<done, std::string> add(issuer_registration r);
  certctl::result<done, std::string> add(target_registration r);
  certctl::result<done, std::string> add(notifier_registration r);
  certctl::result<done, std::string> add(discovery_registration r);

  /// nullptr when no connector of that type is registered.
  const issuer_registration* find_issuer(std::string_view type) const;
  const target_registration* find_target(std::string_view type) const;
  const notifier_registration* find_notifier(std::string_view type) const;
  const discovery_registration* find_discovery(std::string_view type) const;

  /// The schema of a registered connector, whatever its kind; nullptr when none.
  const config_schema* schema(connector_kind kind, std::string_view type) const;

  /// Registered type names of `kind`, sorted.
  std::vector<std::string> types(connector_kind kind) const;

 private:
  template <class R>
  using table = std::map<std::string, R, std::less<>>;
  table<issuer_registration> issuers_;
  table<target_registration> targets_;
  table<notifier_registration> notifiers_;
  table<discovery_registration> discovery_;
};

}  // namespace certctl::connectors
