#pragma once
/// Governance policy rules (the reference's PolicyRule): what a certificate must satisfy before
/// it is issued, and what the periodic sweep reports about certificates that already exist.
///
/// Six rule types, each with its own `config` object:
///
///   AllowedIssuers       {"issuer_ids": ["iss-local", ...]}
///   AllowedDomains       {"domains": ["example.com", "*.internal.example"]}
///                        "example.com" allows the name itself and every subdomain;
///                        "*.x" allows subdomains of x only. Every CN and SAN must match.
///   RequiredMetadata     {"fields": ["owner_id", "team_id", "environment"], "tags": ["cost"]}
///   AllowedEnvironments  {"environments": ["production", "staging"]}
///   RenewalLeadTime      {"min_days": 14, "max_days": 60}   (renewal window, either bound)
///   CertificateLifetime  {"max_days": 397}                  (validity, or the profile's cap)
///
/// Severities Warning, Error, Critical: Error and Critical block issuance, Warning is recorded.
/// Pure functions only: reading the rules and the certificate's related entities, and recording
/// violations, belongs to actors/workflows/policy_engine.hpp.

#include <optional>
#include <string>
#include <vector>

#include "domain/aggregate.hpp"
#include "events/json.hpp"

namespace certctl::domain {

/// The rule types, in the reference's spelling.
const std::vector<std::string>& policy_types();
/// Warning, Error, Critical.
const std::vector<std::string>& policy_severities();

/// Checks a policy document (name, type, severity, config) as a create or update would leave it.
std::optional<domain_error> validate_policy(const events::json_object& policy);

/// What a rule may look at, gathered from the certificate and the entities it names.
struct certificate_facts {
  std::string certificate_id;
  std::string common_name;
  std::vector<std::string> sans;
  std::string issuer_id;
  std::string environment;
  std::string owner_id;
  std::string team_id;
  std::string renewal_policy_id;
  std::string certificate_profile_id;
  std::vector<std::string> tag_keys;
  std::optional<std::int64_t> renewal_window_days;  ///< from the renewal policy
  std::optional<std::int64_t> lifetime_days;        ///< issued validity, else the profile's cap
};

/// The facts a certificate's own view gives (the related entities' fields stay unset).
certificate_facts facts_of_certificate(const std::string& id, const events::json_object& view);

struct policy_finding {
  std::string rule_id;
  std::string rule_name;
  std::string rule_type;
  std::string severity;
  std::string message;  ///< names what is wrong, e.g. "name evil.com is not in the allowed domains"
  bool blocking() const { return severity == "Error" || severity == "Critical"; }
};

/// What `policy` (an enabled rule's view, with its id) says about `facts`: empty when it is
/// satisfied or disabled. A rule whose facts are unknown (no renewal policy) is satisfied.
std::optional<policy_finding> evaluate_policy(const events::json_object& policy,
                                              const certificate_facts& facts);

/// "policy <name> (<id>, <type>, <severity>): <message>", the text an API caller sees.
std::string describe(const policy_finding& f);

}  // namespace certctl::domain
