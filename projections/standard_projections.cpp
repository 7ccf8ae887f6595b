#include "projections/standard_projections.hpp"

#include <memory>

#include "projections/approval_projection.hpp"
#include "projections/audit_projection.hpp"
#include "projections/discovery_projection.hpp"
#include "projections/entity_projections.hpp"
#include "projections/health_check_projection.hpp"
#include "projections/intermediate_projection.hpp"
#include "projections/notification_projection.hpp"
#include "projections/policy_violation_projection.hpp"
#include "projections/projector.hpp"
#include "projections/revocation_projection.hpp"

namespace certctl::projections {

db_result<done> add_standard_projections(projector& p) {
  if (auto r = p.add(std::make_shared<audit_projection>()); !r) return r.error();
  if (auto r = register_entity_projections(p); !r) return r.error();
  if (auto r = p.add(std::make_shared<revocation_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<intermediate_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<policy_violation_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<approval_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<discovery_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<health_check_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<notification_projection>()); !r) return r.error();
  return done{};
}

}  // namespace certctl::projections
