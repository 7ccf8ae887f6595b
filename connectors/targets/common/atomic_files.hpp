#pragma once
/// The file half of the deployment primitive: a set of files (certificate, chain, key, a
/// combined PEM, a generated config) replaced as one unit, with backups to roll back to.
///
///   begin(files) ── backups of every current file (or ".absent" markers) ─┐
///                   temp files written, fsynced                          │ each step
///                   journal written, fsynced  <── a crash from here on ──┘ durable
///                   temps renamed over the targets, directories fsynced
///   commit()      journal removed, old backups pruned to `keep_backups`
///   roll_back()   every file restored from its backup (or removed), journal removed
///
/// A crash between two renames leaves the journal behind; the next file_set on the same
/// journal path calls recover() first, which restores every file to its backup, so a reader
/// finds the old set or (after commit) the new one, never a mix. The journal lives next to the
/// first file (`<dir>/.certctl-<name>.journal`).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace certctl::connectors::targets {

/// Certificates and chains are public; anything holding a private key is owner-only.
inline constexpr unsigned public_file_mode = 0644;
inline constexpr unsigned private_file_mode = 0600;

struct file_content {
  std::string path;  ///< absolute, checked by check_target_path
  std::string bytes;
  unsigned mode = public_file_mode;
};

/// An absolute path without "." or ".." components, NUL or control characters; the message
/// names the path and the reason. The config edge and the file set both call it.
certctl::result<done, std::string> check_target_path(const std::string& path);

/// True when every file exists with exactly these bytes and this mode.
bool files_identical(const std::vector<file_content>& files);

class file_set {
 public:
  /// `name` identifies the target in the journal's file name (a target id: letters, digits,
  /// '-', '_', '.'; anything else becomes '_'). `keep_backups` >= 1 backups per file stay
  /// after commit; < 0 keeps all.
  file_set(std::string name, int keep_backups);

  /// Fault injection for tests: called after the i-th rename (0-based), before the next. A
  /// test's hook may _exit() to simulate a crash between files.
  std::function<void(std::size_t)> after_rename;

  /// Restores a journal left by a crash on `journal_of(files)`. True when one was found and
  /// the files were restored (the caller should reload its service: it may have read them).
  certctl::result<bool, std::string> recover(const std::vector<file_content>& files);

  /// Writes the new set as above; `stamp` (unique, e.g. unix nanoseconds) names the backups.
  /// On failure the old files are back in place before it returns.
  certctl::result<done, std::string> begin(const std::vector<file_content>& files,
                                           const std::string& stamp);
  /// Keeps the new files: drops the journal and prunes backups.
  certctl::result<done, std::string> commit();
  /// Puts the files of the last begin() back.
  certctl::result<done, std::string> roll_back();

  /// Restores the files of `paths` to their backups named `stamp` (an earlier deployment).
  /// Fails, changing nothing, when a backup is missing (pruned or never made).
  certctl::result<done, std::string> restore(const std::vector<std::string>& paths,
                                             const std::string& stamp);

  /// `<path>.certctl-bak.<stamp>` and its marker `<...>.absent` (no file was there).
  static std::string backup_path(const std::string& path, const std::string& stamp);

 private:
  std::string journal_of(const std::vector<std::string>& paths) const;
  certctl::result<done, std::string> restore_files(const std::vector<std::string>& paths,
                                                   const std::string& stamp);
  void prune(const std::string& path) const;

  std::string name_;
  int keep_backups_;
  std::vector<std::string> paths_;  ///< of the open begin()
  std::string stamp_;
  std::string journal_;
};

/// Reads a whole file; false when it cannot.
bool read_file(const std::string& path, std::string& out);

/// Writes `bytes` to `path` atomically: `<path>.certctl-tmp.<stamp>` with `mode`, fsync,
/// rename, fsync of the directory. The owner of an existing file is kept when we may.
certctl::result<done, std::string> write_file_atomically(const std::string& path,
                                                         const std::string& bytes, unsigned mode,
                                                         const std::string& stamp);

}  // namespace certctl::connectors::targets
