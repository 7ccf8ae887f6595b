// certctl: the operator's command-line client for the certctl REST API.
#include <iostream>
#include <sstream>

#include "tools/cli/agents_command.hpp"
#include "tools/cli/args.hpp"
#include "tools/cli/certs_command.hpp"
#include "tools/cli/jobs_command.hpp"
#include "tools/cli/status_command.hpp"

namespace {

struct group {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

const group groups[] = {
    {"certs", "managed certificates: list, get, create, renew, revoke, export",
     certctl::client::run_certs},
    {"jobs", "the job queue: list, get, cancel", certctl::client::run_jobs},
    {"agents", "deployment agents: list, get", certctl::client::run_agents},
    {"status", "server health, readiness, version and summary", certctl::client::run_status},
};

std::string overview() {
  std::ostringstream os;
  os << "usage: certctl [global flags] <command> [<subcommand>] [flags]\n\n"
        "Manage certificates through the certctl API.\n\ncommands:\n";
  for (const auto& g : groups) {
    std::string name = std::string("  ") + g.name;
    name.resize(24, ' ');
    os << name << g.summary << "\n";
  }
  os << "\n"
     << certctl::client::global_flags_help()
     << "\nexit codes: 0 ok, 1 the server reported an error, 2 usage error, 3 no answer\n"
        "(connection, TLS verification or timeout).\n"
        "\nRun \"certctl <command> --help\" for more.\n";
  return os.str();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace certctl::client;
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::vector<std::string> globals = take_leading_globals(args);
  if (args.empty()) return usage_error("missing command", overview());
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << overview();
    return 0;
  }
  for (const auto& g : groups) {
    if (args[0] != g.name) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    rest.insert(rest.end(), globals.begin(), globals.end());
    return g.run(rest);
  }
  return usage_error("unknown command \"" + args[0] + "\"", overview());
}
