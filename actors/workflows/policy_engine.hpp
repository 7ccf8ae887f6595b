#pragma once
/// Applies the governance policy rules (domain/policy_rules.hpp) to certificates: at creation
/// (the REST gateway refuses a certificate a blocking rule forbids, naming the rule), before
/// every issuance whatever its source (REST, renewal, ACME, EST, SCEP: the issuance service's
/// gate), and periodically over the inventory (schedulers/policy_sweep.hpp).
///
/// Every finding is recorded once as policy.violation_recorded on its rule, with an id derived
/// from (rule, certificate, message), so the sweep re-finding it records nothing new.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "domain/policy_rules.hpp"

namespace certctl::actors {

/// Where the engine reads what the read models hold; an adapter in tools/server implements it.
class policy_source {
 public:
  virtual ~policy_source() = default;
  /// Every rule not deleted, as its API view (disabled ones too: evaluation skips them).
  virtual std::vector<events::json_object> policies() = 0;
  /// Violation ids already recorded for the certificate.
  virtual std::vector<std::string> recorded_violations(const std::string& certificate_id) = 0;
};

class policy_engine {
 public:
  policy_engine(entity_runtime& runtime, policy_source& source);

  /// Every finding of the enabled rules about the certificate (its API view, or a create
  /// request's body), blocking ones first.
  std::vector<domain::policy_finding> findings(const std::string& certificate_id,
                                               const events::json_object& certificate_view);

  /// Records the findings not recorded yet for `certificate_id`; returns how many were new.
  size_t record(const std::string& certificate_id,
                const std::vector<domain::policy_finding>& findings, const std::string& principal);

  /// Evaluates and records (when a rule blocks, only the blocking findings: the refusal's
  /// reasons); the first blocking finding, if any, described for the caller.
  std::optional<std::string> check(const std::string& certificate_id,
                                   const events::json_object& certificate_view,
                                   const std::string& principal);

  /// The id a finding is recorded under: "pv-" + 16 hex of SHA-256(rule, certificate, message).
  static std::string violation_id(const std::string& certificate_id,
                                  const domain::policy_finding& f);

 private:
  std::vector<events::json_object> enabled_rules();
  /// The certificate's facts, completed from its renewal policy and profile (read from their
  /// entities, so a rule sees the current settings) when one of `rules` needs them.
  domain::certificate_facts facts_for(const std::string& certificate_id,
                                      const events::json_object& view,
                                      const std::vector<events::json_object>& rules);
  static std::vector<domain::policy_finding> evaluate(const std::vector<events::json_object>& rules,
                                                      const domain::certificate_facts& facts);

  entity_runtime& runtime_;
  policy_source& source_;
};

}  // namespace certctl::actors
