#include "tests/support/subprocess.hpp"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace certctl::testing {

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string command_line(const std::string& program, const std::vector<std::string>& args) {
  std::string cmd = shell_quote(program);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return cmd;
}

process_result run_shell(const std::string& command, bool separate_stderr) {
  process_result r;
  std::filesystem::path err_path;
  std::string cmd = command;
  if (separate_stderr) {
    std::random_device rd;
    err_path = std::filesystem::temp_directory_path() /
               ("certctl-test-stderr-" + std::to_string(rd()) + std::to_string(rd()));
    cmd += " 2>" + shell_quote(err_path.string());
  } else {
    cmd += " 2>&1";
  }
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (separate_stderr) {
    std::ifstream in(err_path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    r.err = ss.str();
    std::error_code ec;
    std::filesystem::remove(err_path, ec);
  }
  return r;
}

std::string built_binary(const std::string& relative) {
  return std::string(CERTCTL_BINARY_DIR) + "/" + relative;
}

}  // namespace certctl::testing
