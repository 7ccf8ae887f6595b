#pragma once
/// The used-nonce record of a cluster (docs/cluster.md "ACME nonces"): table
/// `acme_used_nonces(nonce, expires_at)` in the shared database. Recording is one INSERT that
/// does nothing on a conflict, so exactly one of any number of nodes racing to use a nonce
/// wins. Rows past their expiry are deleted about every 30 s by whichever node records next;
/// an expired nonce is refused by its own timestamp before the table is asked, so a late
/// sweep never lets one through.

#include <string>

#include "gateways/acme/nonce_store.hpp"
#include "infra/sql/database.hpp"

namespace certctl::gateways::acme {

/// Creates the table if needed and returns the recorder; `db` must outlive it.
result<nonce_recorder, std::string> make_shared_nonce_log(sql::database& db);

}  // namespace certctl::gateways::acme
