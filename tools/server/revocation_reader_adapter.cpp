#include "tools/server/revocation_reader_adapter.hpp"

#include "projections/revocation_projection.hpp"

namespace certctl::server {
namespace {

using entries = actors::revocation_read<std::vector<actors::revocation_entry>>;

entries adapt(sql::db_result<std::vector<projections::revocation_row>> rows) {
  if (!rows) return rows.error().message;
  std::vector<actors::revocation_entry> out;
  out.reserve(rows->size());
  for (auto& r : *rows)
    out.push_back({std::move(r.issuer_id), std::move(r.serial_hex), std::move(r.certificate_id),
                   r.not_after_us, r.revoked_at_us, r.reason_code, r.invalidity_date_us,
                   r.changed_position});
  return out;
}

}  // namespace

entries revocation_reader_adapter::changed_after(std::int64_t position, size_t limit) {
  return adapt(projections::revocation_changes(*db_, position, limit));
}

entries revocation_reader_adapter::entries_of(const std::string& issuer_id, std::int64_t position,
                                              size_t limit) {
  return adapt(projections::revocation_rows_of(*db_, issuer_id, position, limit));
}

actors::revocation_read<std::int64_t> revocation_reader_adapter::last_crl_number(
    const std::string& issuer_id) {
  auto n = projections::last_crl_number(*db_, issuer_id);
  if (!n) return n.error().message;
  return *n;
}

}  // namespace certctl::server
