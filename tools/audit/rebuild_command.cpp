#include "tools/audit/rebuild_command.hpp"

#include <iostream>
#include <memory>

#include "infra/sql/database.hpp"
#include "projections/audit_projection.hpp"
#include "projections/entity_projections.hpp"
#include "projections/projector.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {
namespace {

/// Every projection the server runs (tools/server/main.cpp): rebuilding must produce the
/// tables the server would have produced.
std::vector<std::shared_ptr<projections::projection>> server_projections() {
  return {std::make_shared<projections::audit_projection>(),
          std::make_shared<projections::certificate_projection>(),
          std::make_shared<projections::job_projection>(),
          std::make_shared<projections::resource_projection>()};
}

}  // namespace

int run_rebuild_projections(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-audit rebuild-projections --store URL [--projection NAME]",
      "Drops the read-model tables of the store's database (all projections, or one), recreates\n"
      "them and replays the log from position 1, then prints per projection how many events\n"
      "were applied and skipped, and the final position.\n\n"
      "On PostgreSQL in cluster mode, do not race the nodes' live projectors needlessly: until\n"
      "the replay finishes, API reads see partial tables. Racing is still safe: every batch\n"
      "locks the projection's checkpoint row (SELECT ... FOR UPDATE) and applies only from the\n"
      "position it read there, so no event is applied twice and a live projector resynchronises\n"
      "after the reset. SQLite serialises the two writers the same way.\n\n"
      "exit status: 0 rebuilt, 1 rebuilt but events were skipped (see stderr and the\n"
      "projection_skipped_events table), 2 usage, store or database error");
  parser.option("store", "URL", "event store: sqlite:///abs/path.db or postgresql://...", true)
      .option("projection", "NAME",
              "rebuild only this projection: audit, certificates, jobs or resources");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  // Only the named projection is registered, so the others are neither reset nor advanced.
  const auto only = parsed->get("projection");
  std::vector<std::shared_ptr<projections::projection>> chosen;
  std::string names;
  for (auto& p : server_projections()) {
    names += (names.empty() ? "" : ", ") + p->name();
    if (!only || p->name() == *only) chosen.push_back(std::move(p));
  }
  if (chosen.empty()) {
    std::cerr << "error: flag --projection: unknown projection \"" << *only
              << "\" (known: " << names << ")\n";
    return cli::exit_usage;
  }

  const std::string url = *parsed->get("store");
  auto store = open_existing_store(url);
  if (!store) {
    std::cerr << "error: " << store.error().message << "\n";
    return cli::exit_usage;
  }
  // One walk at a time: a small pool is enough and leaves connections to a live server.
  sql::database_options db_options;
  db_options.pool_size = 2;
  auto db = sql::database::open(url, db_options);
  if (!db) {
    std::cerr << "error: read models: " << db.error().message << "\n";
    return cli::exit_usage;
  }

  // The projector logs each reset and each skipped event to stderr, which is what an operator
  // watching a rebuild wants to see.
  projections::projector projector(**store, *db);
  for (auto& p : chosen) {
    if (auto added = projector.add(p); !added) {
      std::cerr << "error: " << added.error().message << "\n";
      return cli::exit_usage;
    }
  }
  if (auto reset = projector.rebuild(); !reset) {
    std::cerr << "error: dropping the read models failed: " << reset.error().message << "\n";
    return cli::exit_usage;
  }
  auto position = projector.catch_up();
  if (!position) {
    std::cerr << "error: replaying the log failed: " << position.error().message << "\n";
    return cli::exit_usage;
  }

  std::uint64_t skipped = 0;
  for (const auto& st : projector.status()) {
    // Positions are gap-free from 1 and every event goes to every projection (types it does
    // not know are no-ops), so the events it took are its position less the skipped ones.
    const auto applied = static_cast<std::uint64_t>(st.position) - st.skipped;
    std::cout << st.name << ": " << applied << " events applied, " << st.skipped
              << " skipped, position " << st.position << "\n";
    skipped += st.skipped;
  }
  std::cout << "rebuilt " << chosen.size() << " projection" << (chosen.size() == 1 ? "" : "s")
            << " up to position " << *position << "\n";
  return skipped == 0 ? 0 : 1;
}

}  // namespace certctl::audit
