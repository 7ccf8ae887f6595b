#pragma once
/// Reads of the job and resource read models (entity_projections.hpp) for GET /api/v1/jobs,
/// /api/v1/agents/{id}/work, /api/v1/{issuers,profiles,policies,teams,owners,agents}, the
/// shared paging envelope, and the counts behind /api/v1/stats/summary and the metrics.
/// Certificates and their versions are in certificate_queries.hpp.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// A page of API objects, each already rendered as JSON object text.
struct json_page {
  std::vector<std::string> data;
  std::int64_t total = 0;  ///< rows matching the filter, over all pages
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// invalid_argument unless page >= 1 and per_page is 1..500 (the API's limits).
db_result<done> check_paging(std::int64_t page, std::int64_t per_page);

/// Runs `SELECT doc FROM <from_where> ORDER BY <order> LIMIT/OFFSET` for one page and counts
/// the matches. `from_where` is e.g. "jobs WHERE status = ?" with `p` its parameters. Used
/// by every list query of the entity read models.
db_result<json_page> query_doc_page(sql::database& db, const std::string& from_where,
                                    const params& p, const std::string& order, std::int64_t page,
                                    std::int64_t per_page);

/// The paginated list body: {"data": [...], "total", "page", "per_page"}.
std::string page_json(const json_page& page);

// ---- jobs ---------------------------------------------------------------------------------

/// Filters combine with AND; an unset filter matches everything.
struct job_filter {
  std::optional<std::string> status;  ///< JobStatus
  std::optional<std::string> type;    ///< JobType
  std::optional<std::string> certificate_id;
  std::optional<std::string> agent_id;
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// Jobs (API Job objects), newest first.
db_result<json_page> list_jobs(sql::database& db, const job_filter& filter);
/// One Job as JSON; nullopt when there is none.
db_result<std::optional<std::string>> get_job(sql::database& db, const std::string& id);

/// One pending work item of an agent: a job AwaitingCSR plus what the agent needs to build
/// the CSR (the certificate's common_name and sans).
struct work_item {
  std::string job_id;
  std::string type;
  std::string certificate_id;
  std::string common_name;
  std::vector<std::string> sans;
  std::string target_id;  ///< empty when the job has none
  std::string status;
  /// Deployment and Validation jobs: the target's connector type and its config (JSON object
  /// text, secrets opened), filled by the gateway, which alone may open sealed secrets.
  std::string target_type;
  std::string target_config_json;
  /// AwaitingCSR jobs: the key the agent should make ("ECDSA-P256", "RSA-2048", ...), from
  /// the certificate's profile, filled by the gateway; empty: the agent's default.
  std::string key_algorithm;
};

/// Work of `agent_id`, oldest first: jobs AwaitingCSR (its own and unassigned ones), and its
/// Pending Deployment and Validation jobs.
db_result<std::vector<work_item>> list_agent_work(sql::database& db, const std::string& agent_id);
/// The /api/v1/agents/{id}/work body: {"jobs": [WorkItem...], "count": N}.
std::string agent_work_json(const std::vector<work_item>& items);

// ---- resources ----------------------------------------------------------------------------

/// Non-deleted resources of `kind` (issuer, profile, renewal_policy, team, owner, agent),
/// newest first. Retired agents are left out (see list_retired_agents). invalid_argument for
/// an unknown kind.
db_result<json_page> list_resources(sql::database& db, const std::string& kind,
                                    std::int64_t page = 1, std::int64_t per_page = 50);
/// Retired (non-deleted) agents, newest first: GET /api/v1/agents/retired.
db_result<json_page> list_retired_agents(sql::database& db, std::int64_t page = 1,
                                         std::int64_t per_page = 50);
/// One non-deleted resource as JSON (retired agents included); nullopt when there is none.
db_result<std::optional<std::string>> get_resource(sql::database& db, const std::string& kind,
                                                   const std::string& id);

// ---- stats --------------------------------------------------------------------------------

struct entity_stats {
  std::map<std::string, std::int64_t> certificates_by_status;
  std::int64_t total_certificates = 0;
  /// Active or Expiring certificates with now < expires_at <= now + window.
  std::int64_t expiring_within_window = 0;
  std::map<std::string, std::int64_t> jobs_by_status;
  std::map<std::string, std::int64_t> agents_by_status;  ///< non-retired, non-deleted agents
  std::int64_t total_agents = 0;
};

/// Counts over the read models at `now`; `expiring_days` sets the expiry window.
db_result<entity_stats> get_entity_stats(sql::database& db, events::timestamp_us now,
                                         std::int64_t expiring_days = 30);
/// The DashboardSummary JSON (pending_jobs counts Pending, AwaitingCSR and AwaitingApproval;
/// completed_at is `now`).
std::string dashboard_summary_json(const entity_stats& s, events::timestamp_us now);

}  // namespace certctl::projections
