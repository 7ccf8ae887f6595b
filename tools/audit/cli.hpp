#pragma once
/// The small command-line kit of certctl's tools: a flag parser ("--name value",
/// "--name=value", boolean "--name") and a subcommand dispatcher. Tools own their exit codes;
/// the kit reserves 2 for usage errors, the Unix convention scripts already expect.

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::cli {

/// Exit code for malformed command lines and for failures that are not the tool's verdict.
constexpr int exit_usage = 2;

struct arg_error {
  std::string message;  ///< names the offending flag or argument
};

/// The flags one command line set; each flag keeps every value it was given, in order.
class parsed_args {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  /// Last value of `name` (the last one wins, as with most Unix tools).
  std::optional<std::string> get(const std::string& name) const;
  /// Every value of a repeatable flag, in command-line order.
  std::vector<std::string> all(const std::string& name) const;
  bool help() const { return help_; }
  /// The flag as an integer >= `min_value` (`fallback` when absent); nullopt, after a message
  /// naming the flag on stderr, when it is not one.
  std::optional<std::int64_t> integer(const std::string& name, std::int64_t fallback,
                                      std::int64_t min_value = 1) const;

 private:
  friend class arg_parser;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

class arg_parser {
 public:
  /// `usage` is the synopsis line, e.g. "certctl-audit verify --store URL".
  arg_parser(std::string usage, std::string description);

  /// A flag with a value; `repeatable` lets it appear more than once.
  arg_parser& option(std::string name, std::string value_name, std::string help,
                     bool required = false, bool repeatable = false);
  /// A boolean flag without a value.
  arg_parser& flag(std::string name, std::string help);

  /// "--help"/"-h" anywhere sets help() and skips the required-flag check.
  result<parsed_args, arg_error> parse(const std::vector<std::string>& args) const;
  std::string help_text() const;

 private:
  struct spec {
    std::string name;
    std::string value_name;  ///< empty for boolean flags
    std::string help;
    bool required = false;
    bool repeatable = false;
  };
  const spec* find(const std::string& name) const;

  std::string usage_;
  std::string description_;
  std::vector<spec> specs_;
};

/// One subcommand: `run` gets the arguments after the subcommand's name.
struct subcommand {
  const char* name;
  const char* summary;
  std::function<int(const std::vector<std::string>& args)> run;
};

/// Runs the subcommand named by argv[1]; prints the overview for no argument or --help.
int dispatch(const char* program, const char* description, int argc, char** argv,
             const std::vector<subcommand>& commands);

/// Parses `args`. When the command should not run, returns nullopt with `exit_code` set:
/// 0 after printing help to stdout, exit_usage after printing the error to stderr.
std::optional<parsed_args> parse_or_exit(const arg_parser& parser,
                                         const std::vector<std::string>& args, int& exit_code);

}  // namespace certctl::cli
