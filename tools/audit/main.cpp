// certctl-audit: compliance tooling over the event log (DESIGN §7).
#include "tools/audit/cli.hpp"
#include "tools/audit/export_command.hpp"
#include "tools/audit/rebuild_command.hpp"
#include "tools/audit/replay_command.hpp"
#include "tools/audit/verify_command.hpp"

int main(int argc, char** argv) {
  using namespace certctl;
  // One line per subcommand.
  const std::vector<cli::subcommand> commands = {
      {"verify", "recompute the hash chain and name the first broken link", audit::run_verify},
      {"export", "write the log as JSON lines or CSV, filtered by time and type",
       audit::run_export},
      {"replay", "print the inventory of an entity kind as it was at a past time",
       audit::run_replay},
      {"rebuild-projections", "drop the read models and replay them from position 1",
       audit::run_rebuild_projections},
  };
  return cli::dispatch("certctl-audit", "Audit the certctl event log.", argc, argv, commands);
}
