#include "tools/audit/replay_command.hpp"

#include <iostream>

#include "events/time.hpp"
#include "projections/point_in_time.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {

int run_replay(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-audit replay --store URL --until T [--kind KIND]",
      "Rebuilds the inventory of one entity kind as it was at time T: folds the log in position\n"
      "order through the domain aggregates, stopping at the first event that occurred after T,\n"
      "and prints one JSON object:\n"
      "  {\"as_of\": T, \"kind\": KIND, \"position\": P, \"<kind>s\": [...], \"total\": N}\n"
      "as_of is T in UTC; P is the last event folded (0 when none); the list holds the API view\n"
      "of every entity that existed then (deleted configuration entities are left out), sorted\n"
      "by id.");
  parser.option("store", "URL", "event store: sqlite:///abs/path.db or postgresql://...", true)
      .option("until", "T", "RFC 3339 time; replay events that occurred at or before it", true)
      .option("kind", "KIND",
              "certificate (default), job, issuer, profile, renewal_policy, team, owner, agent");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  const auto until = events::parse_rfc3339(*parsed->get("until"));
  if (!until) {
    std::cerr << "error: flag --until: \"" << *parsed->get("until")
              << "\" is not an RFC 3339 time (e.g. 2026-11-27T08:00:00Z)\n";
    return cli::exit_usage;
  }
  const std::string kind = parsed->get("kind").value_or("certificate");
  if (!projections::is_replayable_kind(kind)) {
    std::cerr << "error: flag --kind: unknown kind \"" << kind
              << "\" (known: " << projections::replayable_kinds() << ")\n";
    return cli::exit_usage;
  }
  auto opened = open_existing_store(*parsed->get("store"));
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }

  // The fold (projections/point_in_time) folds a prefix of the log in position order and stops
  // at the first event that occurred after T: always a state the system really had.
  auto snapshot = projections::inventory_as_of(**opened, kind, *until);
  if (!snapshot) {
    std::cerr << "error: " << snapshot.error().message << "\n";
    return cli::exit_usage;
  }
  std::cout << projections::inventory_json(*snapshot) << "\n";
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "error: writing the inventory failed\n";
    return cli::exit_usage;
  }
  return 0;
}

}  // namespace certctl::audit
