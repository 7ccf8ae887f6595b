#include "tools/audit/verify_command.hpp"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "infra/store/checkpoint.hpp"
#include "infra/store/hash_chain.hpp"
#include "tools/audit/anchor_check.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/command_check.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {
namespace {

constexpr int exit_broken = 1;

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int run_verify(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-audit verify --store URL [--checkpoint-file FILE] [--public-key PEM]\n"
      "       [--from-checkpoint POSITION] [--expect-head POSITION:HASH]",
      "Recomputes hash = SHA-256(prev_hash || canonical event) in position order and names the\n"
      "first broken link. Then checks the anchors: every signed checkpoint (audit.checkpoint\n"
      "events in the log, and the lines of --checkpoint-file) must be validly signed and match\n"
      "the log; a checkpoint beyond the log's end means a deleted tail, a different hash a\n"
      "rewritten log. Checkpoints kept outside the database (the file sink, Kafka) are what\n"
      "catch a tail deleted together with the checkpoints in it.\n\n"
      "exit status: 0 chain and anchors intact, 1 broken, 2 usage or store error");
  parser.option("store", "URL", "event store: sqlite:///abs/path.db or postgresql://...", true)
      .option("checkpoint-file", "FILE",
              "checkpoints kept outside the log (CERTCTL_AUDIT_CHECKPOINT_FILE, JSON lines)")
      .option("public-key", "PEM",
              "file with the server's checkpoint public key (repeat it for each cluster node's "
              "key); signatures must verify under one of them (default: under the key each "
              "checkpoint carries)",
              false, true)
      .option("from-checkpoint", "POSITION",
              "start at a verified checkpoint for POSITION instead of position 1 (e.g. after "
              "retention removed older events)")
      .option("expect-head", "POSITION:HASH",
              "the log must hold POSITION with this hash (a head recorded earlier)");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  std::vector<std::string> trusted_keys;
  for (const auto& path : parsed->all("public-key")) {
    auto pem = read_text(path);
    if (!pem) {
      std::cerr << "error: flag --public-key: cannot read " << path << "\n";
      return cli::exit_usage;
    }
    trusted_keys.push_back(std::move(*pem));
  }
  std::optional<expected_head> expected;
  if (auto text = parsed->get("expect-head")) {
    expected = parse_expected_head(*text);
    if (!expected) {
      std::cerr << "error: flag --expect-head: \"" << *text
                << "\" is not POSITION:HASH (a position >= 1 and 64 lower-case hex digits)\n";
      return cli::exit_usage;
    }
  }
  auto from = parsed->integer("from-checkpoint", 0, 1);
  if (!from) return cli::exit_usage;
  std::vector<sourced_checkpoint> file_checkpoints;
  if (auto path = parsed->get("checkpoint-file")) {
    auto loaded = load_checkpoint_file(*path);
    if (!loaded) {
      std::cerr << "error: flag --checkpoint-file: " << loaded.error() << "\n";
      return cli::exit_usage;
    }
    file_checkpoints = std::move(loaded).value();
  }
  auto opened = open_existing_store(*parsed->get("store"));
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }
  auto& log = **opened;

  store::chain_walk walk;
  if (*from > 0) {
    // Candidates: the file's, then the log's own (read directly: the walk starts after them).
    auto candidates = file_checkpoints;
    auto in_log = store::read_checkpoints(log);
    if (!in_log) {
      std::cerr << "error: " << in_log.error().message << "\n";
      return in_log.error().code == store::store_errc::corrupt ? exit_broken : cli::exit_usage;
    }
    for (auto& cp : *in_log) candidates.push_back({std::move(cp), "the log"});
    auto start = verified_start(log, candidates, *from, trusted_keys);
    if (!start) {
      if (start.error().broken) {
        std::cout << "chain broken: " << start.error().message << "\n";
        return exit_broken;
      }
      std::cerr << "error: flag --from-checkpoint: " << start.error().message << "\n";
      return cli::exit_usage;
    }
    walk.from_position = *from + 1;
    walk.prev_hash = start->hash;
  }
  // Progress only on a terminal: a long walk should not look hung, but logs stay clean.
  if (isatty(STDERR_FILENO))
    walk.progress = [](std::int64_t n) {
      std::cerr << "\r" << n << " events verified" << std::flush;
    };
  std::vector<sourced_checkpoint> checkpoints = file_checkpoints;
  std::optional<std::int64_t> undecodable;
  walk.on_event = [&](const events::recorded_event& e) {
    if (e.stream_id != store::checkpoint_stream || e.type != store::checkpoint_event_type) return;
    if (auto cp = store::parse_checkpoint(e.payload))
      checkpoints.push_back({std::move(*cp), "log position " + std::to_string(e.position)});
    else if (!undecodable)
      undecodable = e.position;
  };
  auto report = store::verify_chain(log, walk);
  if (walk.progress) std::cerr << "\r";
  if (!report) {
    // A row the store cannot even decode (a NULL or mistyped column) is tampering too.
    if (report.error().code == store::store_errc::corrupt) {
      std::cout << "chain broken: " << report.error().message << "\n";
      return exit_broken;
    }
    std::cerr << "error: " << report.error().message << "\n";
    return cli::exit_usage;
  }
  if (report->first_bad_position) {
    std::cout << "chain broken at position " << *report->first_bad_position << ": "
              << report->problem << " (" << report->events_checked
              << " events verified before it)\n";
    return exit_broken;
  }
  if (undecodable) {
    std::cout << "chain broken: the audit.checkpoint event at position " << *undecodable
              << " does not decode as a checkpoint\n";
    return exit_broken;
  }
  const std::int64_t head = walk.from_position - 1 + report->events_checked;
  auto anchors = check_anchors(log, std::move(checkpoints), expected, trusted_keys,
                               walk.from_position - 1, head);
  if (!anchors) {
    std::cerr << "error: " << anchors.error().message << "\n";
    return cli::exit_usage;
  }
  if (!anchors->problem.empty()) {
    std::cout << "chain broken: " << anchors->problem << "\n";
    return exit_broken;
  }
  // The command table is outside the chain; it must agree with it (command_check.hpp).
  auto commands = check_commands(*parsed->get("store"), head);
  if (!commands) {
    std::cerr << "error: " << commands.error() << "\n";
    return cli::exit_usage;
  }
  if (!commands->problem.empty()) {
    std::cout << "command table inconsistent with the chain: " << commands->problem << "\n";
    return exit_broken;
  }
  std::cout << "verified " << report->events_checked << " events";
  if (walk.from_position > 1)
    std::cout << " from position " << walk.from_position << " (after the checkpoint for "
              << walk.from_position - 1 << ")";
  std::cout << ", head " << head << " " << report->head_hash << "\n";
  if (commands->commands_checked > 0)
    std::cout << commands->commands_checked << " recorded commands agree with the chain\n";
  if (anchors->latest) {
    const auto& cp = anchors->latest->cp;
    std::cout << anchors->checked << " checkpoint(s) hold; the latest covers position "
              << cp.position << " (" << anchors->latest->source << ", key " << cp.key_id
              << (cp.node_id.empty() ? "" : ", node " + cp.node_id) << ")\n";
    if (trusted_keys.empty())
      std::cout << "note: signatures were checked under the keys the checkpoints carry; pass "
                   "--public-key to pin the server's key\n";
  } else {
    std::cout << "note: no checkpoint covers this log: a deleted tail would go unnoticed\n";
  }
  if (expected) std::cout << "expected head " << expected->position << " holds\n";
  return 0;
}

}  // namespace certctl::audit
