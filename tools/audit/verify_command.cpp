#include "tools/audit/verify_command.hpp"

#include <unistd.h>

#include <iostream>

#include "infra/store/hash_chain.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {

int run_verify(const std::vector<std::string>& args) {
  cli::arg_parser parser("certctl-audit verify --store URL",
                         "Recomputes hash = SHA-256(prev_hash || canonical event) over the whole "
                         "log in position order\nand names the first broken link.\n\n"
                         "exit status: 0 chain intact, 1 chain broken, 2 usage or store error");
  parser.option("store", "URL", "event store: sqlite:///abs/path.db or postgresql://...", true);
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  auto opened = open_existing_store(*parsed->get("store"));
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }
  // Progress only on a terminal: a long walk should not look hung, but logs stay clean.
  std::function<void(std::int64_t)> progress;
  if (isatty(STDERR_FILENO))
    progress = [](std::int64_t n) { std::cerr << "\r" << n << " events verified" << std::flush; };
  auto report = store::verify_chain(**opened, progress);
  if (progress) std::cerr << "\r";
  if (!report) {
    // A row the store cannot even decode (a NULL or mistyped column) is tampering too.
    if (report.error().code == store::store_errc::corrupt) {
      std::cout << "chain broken: " << report.error().message << "\n";
      return 1;
    }
    std::cerr << "error: " << report.error().message << "\n";
    return cli::exit_usage;
  }
  if (report->first_bad_position) {
    std::cout << "chain broken at position " << *report->first_bad_position << ": "
              << report->problem << " (" << report->events_checked
              << " events verified before it)\n";
    return 1;
  }
  std::cout << "verified " << report->events_checked << " events, head " << report->head_hash
            << "\n";
  return 0;
}

}  // namespace certctl::audit
