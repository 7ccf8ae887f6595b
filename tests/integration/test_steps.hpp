#pragma once
/// Multi-request steps the integration tests share. Every wait is a bounded poll: issuance runs
/// on the server's workers after the create request has been answered.

#include <chrono>
#include <string>

#include "tests/integration/api.hpp"

namespace certctl::integration {

/// POSTs `body` to /api/v1/certificates, expects 201, waits for Active; returns the id.
std::string issue_active(api& client, const std::string& body);

/// Polls the versions list of `id` until it has `count` entries (first poll waits for
/// `wait_position`); fails the test after `timeout`.
void wait_for_versions(api& client, const std::string& id, size_t count,
                       std::int64_t wait_position = 0,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Polls GET /api/v1/agents/{agent}/work until it offers a job for `certificate_id`; returns
/// that job (id, common_name, ...).
rapidjson::Document wait_for_work(api& client, const std::string& agent_id,
                                  const std::string& certificate_id,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// Polls GET /api/v1/jobs/{id} until its status is `wanted`; returns the job.
rapidjson::Document wait_for_job(api& client, const std::string& job_id, const std::string& wanted,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace certctl::integration
