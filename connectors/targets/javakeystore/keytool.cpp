#include "connectors/targets/javakeystore/keytool.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace certctl::connectors::javakeystore {

namespace fs = std::filesystem;

certctl::result<work_dir, std::string> work_dir::create(const std::string& parent,
                                                        const std::string& password) {
  std::string tmpl = parent + "/.certctl-ks-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr)
    return "cannot create a work directory in " + parent + ": " + std::strerror(errno);
  work_dir dir{std::string(buf.data())};  // mkdtemp makes it 0700
  const int fd = ::open(dir.password_file().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create the password file in " + dir.path();
  const std::string line = password + "\n";
  const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written) return "cannot write the password file in " + dir.path();
  return dir;
}

work_dir::~work_dir() {
  if (path_.empty()) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

targets::command_outcome keytool::run(const std::vector<std::string>& args) const {
  // A JVM per call: client-style flags halve the start-up on small machines.
  std::vector<std::string> argv{program, "-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC",
                                "-J-Xshare:auto"};
  argv.insert(argv.end(), args.begin(), args.end());
  return targets::run_command(argv, timeout);
}

bool says_wrong_password(const std::string& output) {
  return output.find("password was incorrect") != std::string::npos ||
         output.find("tampered with, or password") != std::string::npos;
}

certctl::result<std::optional<std::string>, connector_error> keytool::export_certificate(
    const std::string& store, const std::string& password_file, const std::string& alias) const {
  const auto out = run({"-exportcert", "-rfc", "-alias", alias, "-keystore", store, "-storetype",
                        store_type, "-storepass:file", password_file});
  if (out.succeeded()) return std::optional<std::string>(out.output);
  if (says_wrong_password(out.output))
    return connector_error{connector_errc::invalid_config,
                           "wrong keystore_password for " + store + " (keytool: " +
                               (out.output.find("tampered") != std::string::npos
                                    ? std::string("tampered with, or password was incorrect")
                                    : std::string("password was incorrect")) +
                               ")"};
  if (out.output.find("does not exist") != std::string::npos) return std::optional<std::string>();
  return connector_error{connector_errc::failed,
                         "reading alias " + alias + " from " + store +
                             " failed: " + out.describe({program, "-exportcert", "..."})};
}

}  // namespace certctl::connectors::javakeystore
