#include "tools/audit/export_command.hpp"

#include <fstream>
#include <iostream>

#include "events/event_codec.hpp"
#include "tools/audit/cli.hpp"
#include "tools/audit/export_filter.hpp"
#include "tools/audit/open_store.hpp"

namespace certctl::audit {
namespace {

// Page size of the walk: memory stays bounded by one page however long the log is.
constexpr size_t page_size = 1000;

}  // namespace

int run_export(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-audit export --store URL --format jsonl|csv [--from T] [--to T] [--type TYPE] "
      "[--output FILE]",
      "Writes the event log in position order, one event per line (JSON lines) or row (CSV,\n"
      "with a header). Times are RFC 3339 and compare with each event's occurred_at.");
  parser.option("store", "URL", "event store: sqlite:///abs/path.db or postgresql://...", true)
      .option("format", "FORMAT", "jsonl or csv", true)
      .option("from", "T", "only events that occurred at or after T")
      .option("to", "T", "only events that occurred before T")
      .option("type", "TYPE", "only events of this type; comma-separated list allowed", false, true)
      .option("output", "FILE", "write to FILE instead of standard output");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;

  const std::string format = *parsed->get("format");
  if (format != "jsonl" && format != "csv") {
    std::cerr << "error: flag --format: \"" << format << "\" is not jsonl or csv\n";
    return cli::exit_usage;
  }
  auto filter = make_export_filter(parsed->get("from"), parsed->get("to"), parsed->all("type"));
  if (!filter) {
    std::cerr << "error: " << filter.error().message << "\n";
    return cli::exit_usage;
  }
  auto opened = open_existing_store(*parsed->get("store"));
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }

  std::ofstream file;
  const auto output = parsed->get("output");
  if (output) {
    file.open(*output, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::cerr << "error: flag --output: cannot open " << *output << " for writing\n";
      return cli::exit_usage;
    }
  }
  std::ostream& out = output ? static_cast<std::ostream&>(file) : std::cout;

  const bool csv = format == "csv";
  if (csv) out << events::csv_header() << "\n";
  std::int64_t next = 1;
  for (;;) {
    auto page = (*opened)->read_all(next, page_size);
    if (!page) {
      std::cerr << "error: " << page.error().message << "\n";
      return cli::exit_usage;
    }
    for (const auto& e : *page) {
      if (filter->matches(e)) out << (csv ? events::to_csv_row(e) : events::to_json(e)) << "\n";
      next = e.position + 1;
    }
    if (!out) break;
    if (page->size() < page_size) break;
  }
  out.flush();
  if (!out) {
    std::cerr << "error: writing the export failed" << (output ? " (" + *output + ")" : "") << "\n";
    return cli::exit_usage;
  }
  return 0;
}

}  // namespace certctl::audit
