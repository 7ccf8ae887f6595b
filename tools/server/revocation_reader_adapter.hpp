#pragma once
/// Revocation signing's view of the read side (actors/workflows/revocation_reader.hpp) over
/// the revocation read model: each call is one query of projections/revocation_projection.hpp,
/// its rows copied into the workflow's types, and the projector's position. No SQL here.

#include <cstdint>
#include <functional>
#include <memory>

#include "actors/workflows/revocation_reader.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class revocation_reader_adapter final : public actors::revocation_reader {
 public:
  /// `projected_position`: how far the read model is (projector::projected_position).
  revocation_reader_adapter(std::shared_ptr<sql::database> db,
                            std::function<std::int64_t()> projected_position)
      : db_(std::move(db)), projected_position_(std::move(projected_position)) {}

  actors::revocation_read<std::vector<actors::revocation_entry>> changed_after(
      std::int64_t position, size_t limit) override;
  actors::revocation_read<std::vector<actors::revocation_entry>> entries_of(
      const std::string& issuer_id, std::int64_t position, size_t limit) override;
  actors::revocation_read<std::int64_t> last_crl_number(const std::string& issuer_id) override;
  std::int64_t projected_position() override { return projected_position_(); }

 private:
  std::shared_ptr<sql::database> db_;
  std::function<std::int64_t()> projected_position_;
};

}  // namespace certctl::server
