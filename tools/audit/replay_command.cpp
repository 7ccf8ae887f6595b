#include "tools/audit/replay_command.hpp"

#include <iostream>
#include <map>
#include <memory>

#include "domain/aggregate.hpp"
#include "domain/resource.hpp"
#include "events/time.hpp"
#include "projections/audit_projection.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {
namespace {

// Page size of the walk: only one page of events is held at a time; the aggregates (one per
// entity of the requested kind) are what the inventory needs anyway.
constexpr size_t page_size = 1000;

/// "certificate" -> "certificates", "renewal_policy" -> "renewal_policies".
std::string plural(const std::string& kind) {
  if (!kind.empty() && kind.back() == 'y') return kind.substr(0, kind.size() - 1) + "ies";
  return kind + "s";
}

std::string known_kinds() {
  std::string out = "certificate, job";
  for (const auto& k : domain::resource_kinds()) out += ", " + k;
  return out;
}

}  // namespace

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
  if (!domain::make_aggregate(kind, "probe")) {
    std::cerr << "error: flag --kind: unknown kind \"" << kind << "\" (known: " << known_kinds()
              << ")\n";
    return cli::exit_usage;
  }
  auto opened = open_existing_store(*parsed->get("store"));
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }

  // Which events count as "before T": we fold a prefix of the log in position order and stop
  // at the first event whose occurred_at is after T. Position order is commit order, the order
  // in which every aggregate decided against its state; occurred_at is the clock time of the
  // command, so it rises with position except for small skews between nodes or between
  // stamping and committing. Filtering the whole log by occurred_at instead could fold a later
  // event without an earlier one and show a state the system never was in (an issued
  // certificate that was never created); a prefix is always a state the system really had,
  // "position" names it exactly, and the walk can end early.
  std::map<std::string, std::unique_ptr<domain::aggregate>> entities;  // by id: sorted output
  std::int64_t last_position = 0;
  std::int64_t next = 1;
  for (bool more = true; more;) {
    auto page = (*opened)->read_all(next, page_size);
    if (!page) {
      std::cerr << "error: " << page.error().message << "\n";
      return cli::exit_usage;
    }
    for (const auto& e : *page) {
      if (e.occurred_at > *until) {
        more = false;
        break;
      }
      last_position = e.position;
      next = e.position + 1;
      // Other kinds, and streams no aggregate owns (e.g. auth failures), are not part of this
      // inventory; skipping them is what lets one tool replay every kind.
      auto [stream_kind, id] = projections::split_stream_id(e.stream_id);
      if (stream_kind != kind) continue;
      auto& agg = entities[id];
      if (!agg) agg = domain::make_aggregate(kind, id);
      agg->apply(e);
    }
    if (page->size() < page_size) more = false;
  }

  // Written directly rather than through json_object so the inventory is not copied again;
  // as_of and the kind need no escaping (a formatted time and a validated kind name).
  std::cout << "{\"as_of\":\"" << events::format_rfc3339(*until) << "\",\"kind\":\"" << kind
            << "\",\"position\":" << last_position << ",\"" << plural(kind) << "\":[";
  std::int64_t total = 0;
  for (const auto& [id, agg] : entities) {
    if (!agg->exists()) continue;  // deleted, or a stream without its creating event
    std::cout << (total == 0 ? "" : ",") << agg->view().dump();
    ++total;
  }
  std::cout << "],\"total\":" << total << "}\n";
  std::cout.flush();
  if (!std::cout) {
    std::cerr << "error: writing the inventory failed\n";
    return cli::exit_usage;
  }
  return 0;
}

}  // namespace certctl::audit
