#pragma once
/// Command-line handling of the `certctl` API client: every leaf command ("certs get") declares
/// its positionals and flags in a command_spec; the global connection flags are added to each
/// one, so they work before or after the command words alike. Flag parsing itself is the shared
/// tools kit (tools/audit/cli.hpp); this layer adds positionals and the environment fallbacks.

#include <optional>
#include <string>
#include <vector>

#include "tools/audit/cli.hpp"

namespace certctl::client {

/// The server answered with an error (its `{error, request_id}` body is printed).
constexpr int exit_api_error = 1;
/// Malformed command line; the usage text goes to stderr.
constexpr int exit_usage = cli::exit_usage;
/// No answer at all: connection refused, TLS verification failed, timeout.
constexpr int exit_transport = 3;

enum class output_format { table, json };

/// Where and how to reach the server, after flags and environment are combined.
struct connection_options {
  std::string server_url;  ///< "https://host:port[/prefix]"
  std::string api_key;     ///< empty: only the public endpoints will work
  std::string ca_bundle;   ///< PEM file to verify the server against; empty: system store
  bool insecure = false;   ///< skip verification (announced on stderr, never silent)
  int timeout_s = 30;
};

struct option_spec {
  const char* name;
  const char* value_name;  ///< nullptr for a boolean flag
  const char* help;
  bool required = false;
  bool repeatable = false;
  bool positive_int = false;  ///< value must be a whole number >= 1 (pages, sizes)
};

/// One leaf command, e.g. {"certctl certs get ID [flags]", "Show one certificate.", {"ID"}, {}}.
struct command_spec {
  std::string usage;
  std::string description;
  std::vector<std::string> positionals;  ///< names, all required, in order
  std::vector<option_spec> options;
};

/// A parsed command line, ready to run.
struct invocation {
  cli::parsed_args flags;
  std::vector<std::string> positionals;
  connection_options connection;
  output_format format = output_format::table;
};

/// Parses `args` against `spec` plus the global flags. When the command should not run,
/// returns nullopt with `exit_code` set: 0 after printing help to stdout, exit_usage after
/// printing the error and the usage text to stderr.
std::optional<invocation> parse_command(const command_spec& spec,
                                        const std::vector<std::string>& args, int& exit_code);

/// Prints `message` and the usage text to stderr; returns exit_usage.
int usage_error(const std::string& message, const std::string& usage_text);

/// Help text of the global flags, for the overview screens.
std::string global_flags_help();

/// Moves the global flags that precede the command words ("certctl --server U certs list")
/// out of `args` and returns them, so they can be handed on to the leaf command.
std::vector<std::string> take_leading_globals(std::vector<std::string>& args);

}  // namespace certctl::client
