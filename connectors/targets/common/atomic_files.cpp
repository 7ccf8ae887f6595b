#include "connectors/targets/common/atomic_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace certctl::connectors::targets {
namespace {

constexpr char journal_magic[] = "certctl-deploy-journal v1";

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

/// fsync of a directory makes the renames and unlinks inside it durable.
certctl::result<done, std::string> sync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_text("open directory " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return errno_text("fsync directory " + dir);
  return done{};
}

certctl::result<done, std::string> sync_dirs(const std::vector<std::string>& paths) {
  std::set<std::string> dirs;
  for (const auto& p : paths) dirs.insert(dir_of(p));
  for (const auto& d : dirs)
    if (auto r = sync_dir(d); !r) return r;
  return done{};
}

/// Writes and fsyncs a new file (it must not exist), mode set explicitly (umask ignored).
certctl::result<done, std::string> write_new(const std::string& path, const std::string& bytes,
                                             unsigned mode, const struct stat* owner) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                        static_cast<mode_t>(mode));
  if (fd < 0) return errno_text("create " + path);
  auto fail = [&](const std::string& what) -> certctl::result<done, std::string> {
    std::string why = errno_text(what + " " + path);
    ::close(fd);
    ::unlink(path.c_str());
    return why;
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("chmod");
  // Keep the owner an operator gave the file (a key readable by the daemon's group through
  // ownership). Only root may change it; anyone else keeps their own, which is fine.
  if (owner != nullptr && ::geteuid() == 0) (void)!::fchown(fd, owner->st_uid, owner->st_gid);
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("fsync");
  if (::close(fd) != 0) {
    std::string why = errno_text("close " + path);
    ::unlink(path.c_str());
    return why;
  }
  return done{};
}

std::string sanitize(const std::string& name) {
  std::string out;
  for (const char c : name)
    out.push_back(
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_');
  return out.empty() ? std::string("target") : out;
}

}  // namespace

certctl::result<done, std::string> check_target_path(const std::string& path) {
  if (path.empty() || path.front() != '/') return "path '" + path + "' is not absolute";
  for (const char c : path)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return "path '" + path + "' contains a control character";
  if (path.back() == '/') return "path '" + path + "' names a directory, not a file";
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, end - start);
    if (part == "." || part == "..")
      return "path '" + path + "' contains a '" + part + "' component (path traversal)";
    if (part.empty() && end < path.size()) return "path '" + path + "' contains '//'";
    start = end + 1;
  }
  return done{};
}

bool read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char chunk[8192];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return true;
}

bool files_identical(const std::vector<file_content>& files) {
  for (const auto& f : files) {
    struct stat st {};
    if (::stat(f.path.c_str(), &st) != 0) return false;
    if ((st.st_mode & 07777) != f.mode) return false;
    std::string current;
    if (!read_file(f.path, current) || current != f.bytes) return false;
  }
  return true;
}

certctl::result<done, std::string> write_file_atomically(const std::string& path,
                                                         const std::string& bytes, unsigned mode,
                                                         const std::string& stamp) {
  if (auto ok = check_target_path(path); !ok) return ok;
  struct stat old {};
  const bool had = ::stat(path.c_str(), &old) == 0;
  const std::string tmp = path + ".certctl-tmp." + stamp;
  ::unlink(tmp.c_str());  // a leftover of a crash with the same stamp cannot exist, but be sure
  if (auto w = write_new(tmp, bytes, mode, had ? &old : nullptr); !w) return w;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = errno_text("rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return why;
  }
  return sync_dir(dir_of(path));
}

file_set::file_set(std::string name, int keep_backups)
    : name_(sanitize(name)), keep_backups_(keep_backups) {}

std::string file_set::backup_path(const std::string& path, const std::string& stamp) {
  return path + ".certctl-bak." + stamp;
}

std::string file_set::journal_of(const std::vector<std::string>& paths) const {
  return dir_of(paths.front()) + "/.certctl-" + name_ + ".journal";
}

certctl::result<done, std::string> file_set::restore_files(const std::vector<std::string>& paths,
                                                           const std::string& stamp) {
  std::string first_error;
  for (const auto& p : paths) {
    const std::string bak = backup_path(p, stamp);
    ::unlink((p + ".certctl-tmp." + stamp).c_str());
    if (exists(bak + ".absent")) {
      if (::unlink(p.c_str()) != 0 && errno != ENOENT && first_error.empty())
        first_error = errno_text("remove " + p);
      continue;
    }
    std::string bytes;
    struct stat st {};
    if (::stat(bak.c_str(), &st) != 0 || !read_file(bak, bytes)) {
      if (first_error.empty()) first_error = "backup " + bak + " is missing";
      continue;
    }
    // Every file is attempted even after a failure: restoring most of them beats none.
    if (auto w = write_file_atomically(p, bytes, st.st_mode & 07777, stamp + "r");
        !w && first_error.empty())
      first_error = w.error();
  }
  if (auto s = sync_dirs(paths); !s && first_error.empty()) first_error = s.error();
  if (!first_error.empty()) return first_error;
  return done{};
}

certctl::result<bool, std::string> file_set::recover(const std::vector<file_content>& files) {
  if (files.empty()) return false;
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(f.path);
  const std::string journal = journal_of(paths);
  std::string text;
  if (!read_file(journal, text)) return false;
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string::npos ? end : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (lines.size() < 3 || lines[0] != journal_magic)
    return "journal " + journal + " is not a certctl journal; remove it after checking the files";
  const std::string stamp = lines[1];
  std::vector<std::string> logged(lines.begin() + 2, lines.end());
  logged.erase(std::remove(logged.begin(), logged.end(), std::string()), logged.end());
  for (const auto& p : logged)
    if (auto ok = check_target_path(p); !ok) return "journal " + journal + ": " + ok.error();
  if (auto r = restore_files(logged, stamp); !r)
    return "recovering the interrupted deployment " + stamp + ": " + r.error();
  if (::unlink(journal.c_str()) != 0) return errno_text("remove " + journal);
  if (auto s = sync_dir(dir_of(journal)); !s) return s.error();
  return true;
}

certctl::result<done, std::string> file_set::begin(const std::vector<file_content>& files,
                                                   const std::string& stamp) {
  if (files.empty()) return std::string("no files to deploy");
  paths_.clear();
  for (const auto& f : files) {
    if (auto ok = check_target_path(f.path); !ok) return ok;
    paths_.push_back(f.path);
  }
  stamp_ = stamp;
  journal_ = journal_of(paths_);
  std::vector<std::string> made;  // backups and temps, removed again if begin fails early
  auto undo = [&](std::string why) -> certctl::result<done, std::string> {
    for (const auto& m : made) ::unlink(m.c_str());
    return why;
  };

  // 1. Backups: a copy of every current file, or a marker that there was none.
  for (const auto& f : files) {
    const std::string bak = backup_path(f.path, stamp);
    struct stat st {};
    if (::stat(f.path.c_str(), &st) == 0) {
      std::string bytes;
      if (!read_file(f.path, bytes)) return undo(errno_text("read " + f.path));
      if (auto w = write_new(bak, bytes, st.st_mode & 07777, &st); !w) return undo(w.error());
      made.push_back(bak);
    } else {
      if (auto w = write_new(bak + ".absent", "", private_file_mode, nullptr); !w)
        return undo(w.error());
      made.push_back(bak + ".absent");
    }
  }
  // 2. The new contents beside their targets (same file system, so rename is atomic).
  for (const auto& f : files) {
    const std::string tmp = f.path + ".certctl-tmp." + stamp;
    struct stat st {};
    const bool had = ::stat(f.path.c_str(), &st) == 0;
    if (auto w = write_new(tmp, f.bytes, f.mode, had ? &st : nullptr); !w) return undo(w.error());
    made.push_back(tmp);
  }
  if (auto s = sync_dirs(paths_); !s) return undo(s.error());
  // 3. The journal: from here a crash is repaired by recover().
  std::string journal_text = std::string(journal_magic) + "\n" + stamp + "\n";
  for (const auto& p : paths_) journal_text += p + "\n";
  const std::string journal_tmp = journal_ + ".tmp";
  ::unlink(journal_tmp.c_str());
  if (auto w = write_new(journal_tmp, journal_text, private_file_mode, nullptr); !w)
    return undo(w.error());
  if (::rename(journal_tmp.c_str(), journal_.c_str()) != 0) {
    made.push_back(journal_tmp);
    return undo(errno_text("rename " + journal_tmp));
  }
  if (auto s = sync_dir(dir_of(journal_)); !s) {
    made.push_back(journal_);
    return undo(s.error());
  }
  // 4. The renames.
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string tmp = files[i].path + ".certctl-tmp." + stamp;
    if (::rename(tmp.c_str(), files[i].path.c_str()) != 0) {
      std::string why = errno_text("rename " + tmp + " to " + files[i].path);
      if (auto back = roll_back(); !back) why += "; rolling back failed too: " + back.error();
      return why;
    }
    if (after_rename) after_rename(i);
  }
  if (auto s = sync_dirs(paths_); !s) {
    std::string why = s.error();
    if (auto back = roll_back(); !back) why += "; rolling back failed too: " + back.error();
    return why;
  }
  return done{};
}

certctl::result<done, std::string> file_set::commit() {
  if (journal_.empty()) return std::string("no deployment in progress");
  if (::unlink(journal_.c_str()) != 0 && errno != ENOENT) return errno_text("remove " + journal_);
  auto s = sync_dir(dir_of(journal_));
  journal_.clear();
  for (const auto& p : paths_) prune(p);
  if (!s) return s.error();
  return done{};
}

certctl::result<done, std::string> file_set::roll_back() {
  if (journal_.empty()) return std::string("no deployment in progress");
  auto r = restore_files(paths_, stamp_);
  if (!r) return r;  // the journal stays: the next recover() tries again
  if (::unlink(journal_.c_str()) != 0 && errno != ENOENT) return errno_text("remove " + journal_);
  journal_.clear();
  return sync_dir(dir_of(paths_.front()));
}

certctl::result<done, std::string> file_set::restore(const std::vector<std::string>& paths,
                                                     const std::string& stamp) {
  for (const auto& p : paths) {
    if (auto ok = check_target_path(p); !ok) return ok;
    const std::string bak = backup_path(p, stamp);
    if (!exists(bak) && !exists(bak + ".absent"))
      return "no backup of " + p + " from deployment " + stamp + " (pruned or never made)";
  }
  return restore_files(paths, stamp);
}

void file_set::prune(const std::string& path) const {
  if (keep_backups_ < 0) return;
  const std::string dir = dir_of(path);
  const std::string prefix = base_of(path) + ".certctl-bak.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stamps;
  while (const dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n.compare(0, prefix.size(), prefix) != 0) continue;
    n = n.substr(prefix.size());
    const bool marker = n.size() > 7 && n.compare(n.size() - 7, 7, ".absent") == 0;
    if (marker) n.resize(n.size() - 7);
    if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit)) stamps.push_back(n);
  }
  ::closedir(d);
  // Stamps are decimal nanoseconds of equal width for centuries: the order is the age.
  std::sort(stamps.begin(), stamps.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  const std::size_t keep = static_cast<std::size_t>(std::max(keep_backups_, 1));
  for (std::size_t i = 0; i + keep < stamps.size(); ++i) {
    ::unlink(backup_path(path, stamps[i]).c_str());
    ::unlink((backup_path(path, stamps[i]) + ".absent").c_str());
  }
}

}  // namespace certctl::connectors::targets
