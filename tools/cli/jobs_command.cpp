#include "tools/cli/jobs_command.hpp"

#include "tools/cli/command_support.hpp"

namespace certctl::client {
namespace {

const std::string collection = "/api/v1/jobs";

std::string item_path(const std::string& id) {
  return collection + "/" + url_encode(id);
}

const std::vector<column> job_columns = {{"ID", "id"},
                                         {"TYPE", "type"},
                                         {"CERTIFICATE", "certificate_id"},
                                         {"STATUS", "status"},
                                         {"ATTEMPTS", "attempts", "max_attempts"}};

int list(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl jobs list [--status S] [--type T] [--page N] [--per-page N]",
      "List jobs.",
      {},
      {{"status", "S", "only this status (Pending, AwaitingCSR, Running, Completed, Failed, ...)"},
       {"type", "T", "only this type (Issuance, Renewal, Deployment, Validation)"},
       page_option,
       per_page_option}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  query_params query;
  if (auto s = inv->flags.get("status")) query.emplace_back("status", *s);
  if (auto t = inv->flags.get("type")) query.emplace_back("type", *t);
  add_paging(inv->flags, query);
  return run_list(*inv, collection, query, job_columns);
}

int get(const std::vector<std::string>& args) {
  const command_spec spec{"certctl jobs get ID", "Show one job.", {"ID"}, {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  return run_get(*inv, item_path(inv->positionals[0]));
}

int cancel(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl jobs cancel ID", "Cancel a job that has not finished yet.", {"ID"}, {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  return run_post(*inv, item_path(inv->positionals[0]) + "/cancel", "{}");
}

}  // namespace

int run_jobs(const std::vector<std::string>& args) {
  return dispatch_group("jobs", "The job queue.", args,
                        {{"list", "list jobs (filter by status, type; paginated)", list},
                         {"get", "show one job", get},
                         {"cancel", "cancel a pending or running job", cancel}});
}

}  // namespace certctl::client
