#include "tools/cli/agents_command.hpp"

#include "tools/cli/command_support.hpp"

namespace certctl::client {
namespace {

const std::string collection = "/api/v1/agents";

const std::vector<column> agent_columns = {{"ID", "id"},
                                           {"NAME", "name"},
                                           {"HOSTNAME", "hostname"},
                                           {"STATUS", "status"},
                                           {"LAST HEARTBEAT", "last_heartbeat_at"}};

int list(const std::vector<std::string>& args) {
  const command_spec spec{"certctl agents list [--page N] [--per-page N]",
                          "List active (not retired) agents.",
                          {},
                          {page_option, per_page_option}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  query_params query;
  add_paging(inv->flags, query);
  return run_list(*inv, collection, query, agent_columns);
}

int get(const std::vector<std::string>& args) {
  const command_spec spec{"certctl agents get ID", "Show one agent.", {"ID"}, {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  return run_get(*inv, collection + "/" + url_encode(inv->positionals[0]));
}

}  // namespace

int run_agents(const std::vector<std::string>& args) {
  return dispatch_group(
      "agents", "Deployment agents.", args,
      {{"list", "list agents (paginated)", list}, {"get", "show one agent", get}});
}

}  // namespace certctl::client
