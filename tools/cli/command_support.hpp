#pragma once
/// What every `certctl` command group shares: the "<group> <verb>" dispatcher with its help
/// screen, opening the connection, and the three shapes most verbs take (list a collection,
/// show one object, post an action), each printing in the chosen format and returning the
/// process exit code.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tools/cli/args.hpp"
#include "tools/cli/http_client.hpp"
#include "tools/cli/output.hpp"

namespace certctl::client {

/// One verb of a group; `run` gets the arguments after the verb, global flags included.
struct verb {
  const char* name;
  const char* summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

/// --page and --per-page, shared by every list verb.
extern const option_spec page_option;
extern const option_spec per_page_option;
/// Adds the paging flags that were given to `query` under the API's names.
void add_paging(const cli::parsed_args& flags, query_params& query);

/// Runs the verb named by the first argument (global flags may come before it).
int dispatch_group(const std::string& group, const std::string& description,
                   std::vector<std::string> args, const std::vector<verb>& verbs);

/// The connection for `inv`; nullptr with the error printed and `exit_code` set.
std::unique_ptr<api_client> connect(const invocation& inv, int& exit_code);

/// The 2xx answer in `r`, or nullopt with the error printed and `exit_code` set:
/// exit_transport when nothing came back, exit_api_error for an error status.
std::optional<api_response> expect_ok(const call_result& r, int& exit_code);

/// GET a paginated collection; a table of `columns` or the JSON as received.
int run_list(const invocation& inv, const std::string& path, const query_params& query,
             const std::vector<column>& columns);
/// GET one object; "key: value" lines or the JSON as received.
int run_get(const invocation& inv, const std::string& path);
/// POST `body` to an action endpoint; its answer printed like run_get's.
int run_post(const invocation& inv, const std::string& path, const std::string& body);

/// Prints a 2xx answer holding one object in the chosen format.
void print_single(const invocation& inv, const api_response& r);

}  // namespace certctl::client
