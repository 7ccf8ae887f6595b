#pragma once
/// What revocation signing (revocation_cache.hpp) reads from the read side: the revocation
/// status of issued certificates, the CRL numbers an issuer used, and how far the read model
/// is. An interface so actors/ does not depend on projections/: the server implements it over
/// the revocation read model's queries (tools/server/revocation_reader_adapter.hpp, over
/// projections/revocation_projection.hpp); tests may fake it.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::actors {

/// One issued certificate version relying parties may ask about. Times in microseconds since
/// the epoch.
struct revocation_entry {
  std::string issuer_id;
  std::string serial_hex;  ///< upper case, as the issuer reported it
  std::string certificate_id;
  std::int64_t not_after_us = 0;
  std::optional<std::int64_t> revoked_at_us;  ///< set once revoked
  int reason_code = 0;
  std::int64_t invalidity_date_us = 0;  ///< 0: unknown
  /// Log position of the event that last changed the entry; entries are read in this order.
  std::int64_t changed_position = 0;
};

template <class T>
using revocation_read = result<T, std::string>;

class revocation_reader {
 public:
  virtual ~revocation_reader() = default;

  /// Entries of every issuer changed after `position`, oldest change first, at most `limit`.
  virtual revocation_read<std::vector<revocation_entry>> changed_after(std::int64_t position,
                                                                       size_t limit) = 0;

  /// The entries of `issuer_id` changed after `position`, oldest change first, at most
  /// `limit` (loading an issuer not followed from the start).
  virtual revocation_read<std::vector<revocation_entry>> entries_of(const std::string& issuer_id,
                                                                    std::int64_t position,
                                                                    size_t limit) = 0;

  /// The highest CRL number `issuer_id` has published; 0 when none.
  virtual revocation_read<std::int64_t> last_crl_number(const std::string& issuer_id) = 0;

  /// The log position the read model has applied (reads see at least that much).
  virtual std::int64_t projected_position() = 0;
};

}  // namespace certctl::actors
