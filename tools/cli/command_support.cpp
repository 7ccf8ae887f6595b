#include "tools/cli/command_support.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace certctl::client {

const option_spec page_option{"page", "N", "page number, from 1", false, false, true};
const option_spec per_page_option{"per-page", "N",   "items per page (server default 50, max 500)",
                                  false,      false, true};

void add_paging(const cli::parsed_args& flags, query_params& query) {
  if (auto p = flags.get("page")) query.emplace_back("page", *p);
  if (auto p = flags.get("per-page")) query.emplace_back("per_page", *p);
}

int dispatch_group(const std::string& group, const std::string& description,
                   std::vector<std::string> args, const std::vector<verb>& verbs) {
  std::vector<std::string> globals = take_leading_globals(args);
  auto overview = [&] {
    std::ostringstream os;
    os << "usage: certctl " << group << " <command> [flags]\n\n"
       << description << "\n\ncommands:\n";
    for (const auto& v : verbs) {
      std::string name = std::string("  ") + v.name;
      name.resize(std::max<size_t>(name.size() + 2, 24), ' ');
      os << name << v.summary << "\n";
    }
    os << "\n" << global_flags_help();
    os << "\nRun \"certctl " << group << " <command> --help\" for a command's flags.\n";
    return os.str();
  };
  if (args.empty()) return usage_error("missing command", overview());
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << overview();
    return 0;
  }
  for (const auto& v : verbs) {
    if (args[0] != v.name) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    rest.insert(rest.end(), globals.begin(), globals.end());
    return v.run(rest);
  }
  return usage_error("unknown command \"" + group + " " + args[0] + "\"", overview());
}

std::unique_ptr<api_client> connect(const invocation& inv, int& exit_code) {
  auto client = api_client::open(inv.connection);
  if (!client) {
    std::cerr << "error: " << client.error().message << "\n";
    exit_code = client.error().exit_code;
    return nullptr;
  }
  return std::move(client).value();
}

std::optional<api_response> expect_ok(const call_result& r, int& exit_code) {
  if (!r) {
    std::cerr << "error: " << r.error().message << "\n";
    exit_code = exit_transport;
    return std::nullopt;
  }
  if (r->status < 200 || r->status > 299) {
    std::cerr << "error: " << describe_api_error(*r) << "\n";
    exit_code = exit_api_error;
    return std::nullopt;
  }
  return *r;
}

void print_single(const invocation& inv, const api_response& r) {
  // A 202/204 may carry no body; say so rather than print an empty line.
  if (r.body.empty()) {
    if (inv.format == output_format::table) std::cout << "ok (HTTP " << r.status << ")\n";
    return;
  }
  if (inv.format == output_format::json || !print_object(r.body, std::cout))
    print_raw(r.body, std::cout);
}

int run_list(const invocation& inv, const std::string& path, const query_params& query,
             const std::vector<column>& columns) {
  int exit_code = 0;
  auto client = connect(inv, exit_code);
  if (!client) return exit_code;
  auto r = expect_ok(client->get(path, query), exit_code);
  if (!r) return exit_code;
  if (inv.format == output_format::json || !print_list(r->body, columns, std::cout))
    print_raw(r->body, std::cout);
  return 0;
}

int run_get(const invocation& inv, const std::string& path) {
  int exit_code = 0;
  auto client = connect(inv, exit_code);
  if (!client) return exit_code;
  auto r = expect_ok(client->get(path), exit_code);
  if (!r) return exit_code;
  print_single(inv, *r);
  return 0;
}

int run_post(const invocation& inv, const std::string& path, const std::string& body) {
  int exit_code = 0;
  auto client = connect(inv, exit_code);
  if (!client) return exit_code;
  auto r = expect_ok(client->post(path, body), exit_code);
  if (!r) return exit_code;
  print_single(inv, *r);
  return 0;
}

}  // namespace certctl::client
