#pragma once
/// The entity read models (DESIGN §6): certificates and their versions, jobs, and the
/// configuration resources (issuers, profiles, renewal policies, teams, owners, agents).
/// Each folds its events with the domain's own fold (domain::fold_certificate, fold_job,
/// fold_resource: what the aggregates' apply() runs), so the stored `doc` is the entity as
/// the API returns it and cannot drift from the write side. Queries are in certificate_queries.hpp
/// and entity_queries.hpp.

#include <string>

#include "projections/projection.hpp"

namespace certctl::projections {

class projector;

/// `certificates` (one row per ManagedCertificate: filter columns plus the API `doc`) and
/// `certificate_versions` (one row per certificate.issued).
class certificate_projection final : public projection {
 public:
  std::string name() const override { return "certificates"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// `jobs`: one row per Job (filter columns plus the API `doc`).
class job_projection final : public projection {
 public:
  std::string name() const override { return "jobs"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// `resources`: one row per (kind, id) for issuer, profile, renewal_policy, team, owner and
/// agent. Deleted entities stay as rows flagged `deleted = 1`; agents also carry `status` and
/// a `retired` flag for their list filters.
class resource_projection final : public projection {
 public:
  std::string name() const override { return "resources"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// True for the kinds resource_projection folds.
bool is_resource_kind(const std::string& kind);

/// Adds the three entity projections to `p` (before its first start() or catch_up()).
db_result<done> register_entity_projections(projector& p);

}  // namespace certctl::projections
