#include "tools/audit/cli.hpp"

#include <algorithm>
#include <iostream>
#include <sstream>

namespace certctl::cli {

std::optional<std::int64_t> parsed_args::integer(const std::string& name, std::int64_t fallback,
                                                 std::int64_t min_value) const {
  const auto text = get(name);
  if (!text) return fallback;
  try {
    size_t used = 0;
    const long long v = std::stoll(*text, &used);
    if (used == text->size() && v >= min_value) return v;
  } catch (const std::exception&) {
    // Reported below, with the flag's name.
  }
  std::cerr << "error: flag --" << name << ": \"" << *text
            << "\" is not an integer >= " << min_value << "\n";
  return std::nullopt;
}

std::optional<std::string> parsed_args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> parsed_args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

arg_parser::arg_parser(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

arg_parser& arg_parser::option(std::string name, std::string value_name, std::string help,
                               bool required, bool repeatable) {
  specs_.push_back({std::move(name), std::move(value_name), std::move(help), required, repeatable});
  return *this;
}

arg_parser& arg_parser::flag(std::string name, std::string help) {
  specs_.push_back({std::move(name), "", std::move(help), false, false});
  return *this;
}

const arg_parser::spec* arg_parser::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

result<parsed_args, arg_error> arg_parser::parse(const std::vector<std::string>& args) const {
  parsed_args out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg.size() == 2)
      return arg_error{"unexpected argument \"" + arg + "\""};
    const auto eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const spec* s = find(name);
    if (s == nullptr) return arg_error{"unknown flag --" + name};
    if (s->value_name.empty()) {
      if (eq != std::string::npos) return arg_error{"flag --" + name + " takes no value"};
      out.values_[name].push_back("true");
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else {
      // A following "--flag" is a forgotten value, not the value itself.
      if (i + 1 >= args.size() || args[i + 1].rfind("--", 0) == 0)
        return arg_error{"flag --" + name + " needs a value (" + s->value_name + ")"};
      value = args[++i];
    }
    auto& values = out.values_[name];
    if (!values.empty() && !s->repeatable)
      return arg_error{"flag --" + name + " is given more than once"};
    values.push_back(std::move(value));
  }
  if (!out.help_) {
    for (const auto& s : specs_)
      if (s.required && !out.has(s.name)) return arg_error{"flag --" + s.name + " is required"};
  }
  return out;
}

std::string arg_parser::help_text() const {
  std::ostringstream os;
  os << "usage: " << usage_ << "\n\n" << description_ << "\n";
  if (!specs_.empty()) os << "\nflags:\n";
  for (const auto& s : specs_) {
    std::string left = "  --" + s.name + (s.value_name.empty() ? "" : " " + s.value_name);
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    os << left << s.help << (s.required ? " (required)" : "")
       << (s.repeatable ? " (repeatable)" : "") << "\n";
  }
  os << "  --help                    this text\n";
  return os.str();
}

std::optional<parsed_args> parse_or_exit(const arg_parser& parser,
                                         const std::vector<std::string>& args, int& exit_code) {
  auto parsed = parser.parse(args);
  if (!parsed) {
    std::cerr << "error: " << parsed.error().message << "\n(see --help)\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (parsed->help()) {
    std::cout << parser.help_text();
    exit_code = 0;
    return std::nullopt;
  }
  return std::move(parsed).value();
}

int dispatch(const char* program, const char* description, int argc, char** argv,
             const std::vector<subcommand>& commands) {
  auto overview = [&](std::ostream& os) {
    os << "usage: " << program << " <command> [flags]\n\n" << description << "\n\ncommands:\n";
    for (const auto& c : commands) {
      std::string name = std::string("  ") + c.name;
      name.resize(std::max<size_t>(name.size() + 2, 24), ' ');
      os << name << c.summary << "\n";
    }
    os << "\nRun \"" << program << " <command> --help\" for a command's flags.\n";
  };
  if (argc < 2) {
    overview(std::cerr);
    return exit_usage;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    overview(std::cout);
    return 0;
  }
  for (const auto& c : commands) {
    if (name == c.name) return c.run(std::vector<std::string>(argv + 2, argv + argc));
  }
  std::cerr << "error: unknown command \"" << name << "\"\n\n";
  overview(std::cerr);
  return exit_usage;
}

}  // namespace certctl::cli
