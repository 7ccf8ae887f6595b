#pragma once
/// A unit of work on a certificate (Issuance, Renewal; Deployment and Validation later).
///
///   Pending --start--> Running --complete--> Completed
///   AwaitingCSR --csr--> Running --fail--> Pending (retry, attempts < max) | Failed
///   Pending/AwaitingCSR/AwaitingApproval/Running --cancel|timeout--> Cancelled | Failed

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_job(const std::string& id);

}  // namespace certctl::domain
