#pragma once
/// Read model of the intermediate CAs (tree mode): one row per intermediate entity, folded
/// with the domain's own fold (domain::fold_intermediate), so the API view here and the
/// entity's view cannot drift apart. Queries for GET /api/v1/issuers/{id}/intermediates and
/// GET /api/v1/intermediates/{id}.

#include <optional>
#include <string>
#include <vector>

#include "projections/projection.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// `intermediates`: id, issuer_id, created_seq (the list order), status, doc (the API view).
class intermediate_projection final : public projection {
 public:
  std::string name() const override { return "intermediates"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// The intermediates of `issuer_id` as JSON object texts, oldest first (created_at order),
/// at most `limit`.
db_result<std::vector<std::string>> list_intermediates(sql::database& db,
                                                       const std::string& issuer_id,
                                                       std::int64_t limit = 10000);

/// One intermediate as JSON; nullopt when there is none.
db_result<std::optional<std::string>> get_intermediate(sql::database& db, const std::string& id);

}  // namespace certctl::projections
