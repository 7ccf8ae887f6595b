#include "actors/workflows/policy_engine.hpp"

#include <algorithm>

#include "infra/crypto/sha256.hpp"

namespace certctl::actors {

policy_engine::policy_engine(entity_runtime& runtime, policy_source& source)
    : runtime_(runtime), source_(source) {}

namespace {

bool any_of_type(const std::vector<events::json_object>& rules, const char* type) {
  return std::any_of(rules.begin(), rules.end(),
                     [type](const events::json_object& r) { return r.str("type") == type; });
}

}  // namespace

std::vector<events::json_object> policy_engine::enabled_rules() {
  auto rules = source_.policies();
  rules.erase(
      std::remove_if(rules.begin(), rules.end(),
                     [](const events::json_object& r) { return !r.boolean("enabled", true); }),
      rules.end());
  return rules;
}

domain::certificate_facts policy_engine::facts_for(const std::string& certificate_id,
                                                   const events::json_object& view,
                                                   const std::vector<events::json_object>& rules) {
  auto facts = domain::facts_of_certificate(certificate_id, view);
  // Related entities are read only when a rule looks at them: issuance pays nothing extra
  // while no such rule exists.
  if (!facts.renewal_policy_id.empty() && any_of_type(rules, "RenewalLeadTime"))
    if (auto rp = runtime_.read("renewal_policy", facts.renewal_policy_id))
      facts.renewal_window_days = rp->view.int64("renewal_window_days", 30);
  if (!facts.certificate_profile_id.empty() && any_of_type(rules, "CertificateLifetime"))
    if (auto prof = runtime_.read("profile", facts.certificate_profile_id))
      facts.lifetime_days = (prof->view.int64("max_ttl_seconds", 0) + 86399) / 86400;
  return facts;
}

std::vector<domain::policy_finding> policy_engine::evaluate(
    const std::vector<events::json_object>& rules, const domain::certificate_facts& facts) {
  std::vector<domain::policy_finding> out;
  for (const auto& rule : rules)
    if (auto f = domain::evaluate_policy(rule, facts)) out.push_back(std::move(*f));
  std::stable_partition(out.begin(), out.end(),
                        [](const domain::policy_finding& f) { return f.blocking(); });
  return out;
}

std::vector<domain::policy_finding> policy_engine::findings(const std::string& certificate_id,
                                                            const events::json_object& view) {
  const auto rules = enabled_rules();
  if (rules.empty()) return {};
  return evaluate(rules, facts_for(certificate_id, view, rules));
}

std::string policy_engine::violation_id(const std::string& certificate_id,
                                        const domain::policy_finding& f) {
  const auto digest = crypto::sha256_of(f.rule_id + '\n' + certificate_id + '\n' + f.message);
  return "pv-" + crypto::to_hex(digest).substr(0, 16);
}

size_t policy_engine::record(const std::string& certificate_id,
                             const std::vector<domain::policy_finding>& findings,
                             const std::string& principal) {
  if (findings.empty()) return 0;
  const auto known = source_.recorded_violations(certificate_id);
  size_t added = 0;
  for (const auto& f : findings) {
    const std::string id = violation_id(certificate_id, f);
    if (std::find(known.begin(), known.end(), id) != known.end()) continue;
    domain::command cmd;
    cmd.name = "policy.record_violation";
    cmd.entity_id = f.rule_id;
    cmd.principal = principal;
    cmd.command_id = "policy.record_violation:" + id;  // once, even if two sweeps race
    cmd.body.set("violation_id", id)
        .set("certificate_id", certificate_id)
        .set("message", f.message);
    auto r = runtime_.execute("policy", std::move(cmd));
    if (r && !r->duplicate) ++added;
  }
  return added;
}

std::optional<std::string> policy_engine::check(const std::string& certificate_id,
                                                const events::json_object& view,
                                                const std::string& principal) {
  auto found = findings(certificate_id, view);
  if (found.empty() || !found.front().blocking()) {
    record(certificate_id, found, principal);
    return std::nullopt;
  }
  // Refused: what is on record is why (the certificate's warnings matter only if it exists).
  found.erase(std::find_if(found.begin(), found.end(),
                           [](const domain::policy_finding& f) { return !f.blocking(); }),
              found.end());
  record(certificate_id, found, principal);
  return domain::describe(found.front());
}

}  // namespace certctl::actors
