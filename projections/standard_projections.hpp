#pragma once
/// The read models the server runs, in one place: the audit log, the entity read models
/// (certificates and versions, jobs, resources), revocation status and the intermediate CAs.
/// Every REST, ACME, PKI and scheduler query reads one of them.

#include "projections/sql_names.hpp"

namespace certctl::projections {

class projector;

/// Adds them all to `p`, before its first start() or catch_up(); the projector's error when
/// one cannot be added (a duplicate name, or `p` already started).
db_result<done> add_standard_projections(projector& p);

}  // namespace certctl::projections
