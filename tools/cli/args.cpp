#include "tools/cli/args.hpp"

#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace certctl::client {
namespace {

constexpr const char* default_server_url = "https://127.0.0.1:8443";

const std::vector<option_spec>& global_options() {
  static const std::vector<option_spec> options = {
      {"server", "URL", "API base URL (default $CERTCTL_SERVER_URL, else https://127.0.0.1:8443)"},
      {"api-key", "KEY", "Bearer API key (default $CERTCTL_API_KEY; prefer the variable)"},
      {"ca-bundle", "FILE",
       "PEM CA bundle for the server (default $CERTCTL_SERVER_CA_BUNDLE_PATH)"},
      {"insecure", nullptr, "do not verify the server certificate (warns on every call)"},
      {"format", "table|json", "output format (default table)"},
      {"timeout", "SECONDS", "connect and read timeout (default 30)"},
  };
  return options;
}

const option_spec* find_option(const command_spec& spec, const std::string& name) {
  for (const auto& o : spec.options)
    if (name == o.name) return &o;
  for (const auto& o : global_options())
    if (name == o.name) return &o;
  return nullptr;
}

// Empty variables count as unset: `CERTCTL_API_KEY= certctl ...` is how people clear one.
std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

/// Splits `args` into flag tokens (for the kit's parser) and positionals, knowing which flags
/// consume the following word as their value.
void split_args(const command_spec& spec, const std::vector<std::string>& args,
                std::vector<std::string>& flags, std::vector<std::string>& positionals) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.empty() || a[0] != '-') {
      positionals.push_back(a);
      continue;
    }
    flags.push_back(a);
    if (a.rfind("--", 0) != 0 || a.find('=') != std::string::npos) continue;
    const option_spec* o = find_option(spec, a.substr(2));
    // A following "--flag" is a forgotten value; the kit's parser reports that.
    if (o != nullptr && o->value_name != nullptr && i + 1 < args.size() &&
        args[i + 1].rfind("--", 0) != 0)
      flags.push_back(args[++i]);
  }
}

cli::arg_parser make_parser(const command_spec& spec) {
  cli::arg_parser parser(spec.usage, spec.description);
  auto add = [&parser](const option_spec& o) {
    if (o.value_name == nullptr)
      parser.flag(o.name, o.help);
    else
      parser.option(o.name, o.value_name, o.help, o.required, o.repeatable);
  };
  for (const auto& o : spec.options) add(o);
  for (const auto& o : global_options()) add(o);
  return parser;
}

/// True for a decimal integer in [1, 1000000]: the shape of --page and --per-page.
bool is_positive_int(const std::string& s) {
  if (s.empty() || s.size() > 7) return false;
  for (char ch : s)
    if (ch < '0' || ch > '9') return false;
  const long v = std::stol(s);
  return v >= 1 && v <= 1000000;
}

}  // namespace

int usage_error(const std::string& message, const std::string& usage_text) {
  std::cerr << "error: " << message << "\n\n" << usage_text;
  return exit_usage;
}

std::string global_flags_help() {
  std::string out = "global flags (before or after the command words):\n";
  for (const auto& o : global_options()) {
    std::string left = std::string("  --") + o.name;
    if (o.value_name != nullptr) left += std::string(" ") + o.value_name;
    left.resize(std::max<size_t>(left.size() + 2, 28), ' ');
    out += left + o.help + "\n";
  }
  return out;
}

std::vector<std::string> take_leading_globals(std::vector<std::string>& args) {
  std::vector<std::string> taken;
  size_t i = 0;
  while (i < args.size() && args[i].rfind("--", 0) == 0 && args[i] != "--help") {
    const std::string& a = args[i];
    const auto eq = a.find('=');
    const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const option_spec* o = find_option(command_spec{}, name);
    if (o == nullptr) break;  // left in place: the dispatcher reports it
    taken.push_back(a);
    ++i;
    if (o->value_name != nullptr && eq == std::string::npos && i < args.size())
      taken.push_back(args[i++]);
  }
  args.erase(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
  return taken;
}

std::optional<invocation> parse_command(const command_spec& spec,
                                        const std::vector<std::string>& args, int& exit_code) {
  const cli::arg_parser parser = make_parser(spec);
  std::vector<std::string> flag_tokens;
  invocation inv;
  split_args(spec, args, flag_tokens, inv.positionals);
  auto parsed = parser.parse(flag_tokens);
  if (!parsed) {
    exit_code = usage_error(parsed.error().message, parser.help_text());
    return std::nullopt;
  }
  if (parsed->help()) {
    std::cout << parser.help_text();
    exit_code = 0;
    return std::nullopt;
  }
  if (inv.positionals.size() < spec.positionals.size()) {
    exit_code =
        usage_error("missing " + spec.positionals[inv.positionals.size()], parser.help_text());
    return std::nullopt;
  }
  if (inv.positionals.size() > spec.positionals.size()) {
    exit_code =
        usage_error("unexpected argument \"" + inv.positionals[spec.positionals.size()] + "\"",
                    parser.help_text());
    return std::nullopt;
  }
  inv.flags = std::move(parsed).value();
  for (const auto& o : spec.options) {
    auto v = inv.flags.get(o.name);
    if (o.positive_int && v && !is_positive_int(*v)) {
      exit_code =
          usage_error(std::string("--") + o.name + " needs a whole number >= 1, not \"" + *v + "\"",
                      parser.help_text());
      return std::nullopt;
    }
  }

  auto& c = inv.connection;
  c.server_url = inv.flags.get("server").value_or(env_or("CERTCTL_SERVER_URL", default_server_url));
  c.api_key = inv.flags.get("api-key").value_or(env_or("CERTCTL_API_KEY", ""));
  c.ca_bundle = inv.flags.get("ca-bundle").value_or(env_or("CERTCTL_SERVER_CA_BUNDLE_PATH", ""));
  c.insecure = inv.flags.has("insecure");
  if (auto t = inv.flags.get("timeout")) {
    char* end = nullptr;
    const long v = std::strtol(t->c_str(), &end, 10);
    if (t->empty() || *end != '\0' || v < 1 || v > 3600) {
      exit_code =
          usage_error("--timeout needs whole seconds between 1 and 3600, not \"" + *t + "\"",
                      parser.help_text());
      return std::nullopt;
    }
    c.timeout_s = static_cast<int>(v);
  }
  const std::string format = inv.flags.get("format").value_or("table");
  if (format == "json") {
    inv.format = output_format::json;
  } else if (format != "table") {
    exit_code =
        usage_error("--format must be table or json, not \"" + format + "\"", parser.help_text());
    return std::nullopt;
  }
  return inv;
}

}  // namespace certctl::client
