#pragma once
/// keytool (OpenJDK) driven as argv, never through a shell, for the Java keystore target. The
/// store password reaches keytool as `-storepass:file`, from a 0600 file in a 0700 work
/// directory, so it never appears in argv (ps, /proc/<pid>/cmdline) as `-storepass` would.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "connectors/connector_error.hpp"
#include "connectors/targets/common/command.hpp"
#include "events/result.hpp"

namespace certctl::connectors::javakeystore {

/// A private work directory (0700) beside the keystore, removed with its contents on
/// destruction; holds the password file, the incoming PKCS#12 and the keystore being built.
class work_dir {
 public:
  /// Creates `<parent>/.certctl-ks-XXXXXX` and the password file in it.
  static certctl::result<work_dir, std::string> create(const std::string& parent,
                                                       const std::string& password);
  ~work_dir();
  work_dir(work_dir&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  work_dir& operator=(work_dir&&) = delete;
  work_dir(const work_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string password_file() const { return path_ + "/storepass"; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit work_dir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

struct keytool {
  std::string program = "keytool";
  std::string store_type = "PKCS12";  ///< "PKCS12" or "JKS"
  std::chrono::milliseconds timeout{60000};

  /// keytool `args...` with the JVM flags that shorten its start; runs without a shell.
  targets::command_outcome run(const std::vector<std::string>& args) const;

  /// The certificate (PEM) under `alias` in `store`, nullopt when the alias does not exist.
  /// A wrong password is invalid_config naming the keystore; other failures carry keytool's
  /// output.
  certctl::result<std::optional<std::string>, connector_error> export_certificate(
      const std::string& store, const std::string& password_file, const std::string& alias) const;
};

/// True when keytool's output says the store password is wrong (PKCS12 and JKS wording).
bool says_wrong_password(const std::string& output);

}  // namespace certctl::connectors::javakeystore
