#include "infra/crypto/secure_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "infra/crypto/random.hpp"

namespace certctl::crypto {

namespace {

crypto_error os_error(std::string_view what, const std::string& path, int err) {
  return crypto_error{std::string(what) + " " + path + ": " + std::system_category().message(err)};
}

std::string parent_of(const std::string& path) {
  const auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

/// Writes `data` to a new temp file next to `path`; returns the temp file's name.
crypto_result<std::string> write_temp(const std::string& path, std::string_view data,
                                      unsigned mode) {
  const std::string tmp = path + ".tmp-" + random_hex(8);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return os_error("create", tmp, errno);
  // open() applies the umask; set the mode explicitly so 0600 really is 0600.
  int err = 0;
  if (::fchmod(fd, mode) != 0) err = errno;
  size_t written = 0;
  while (err == 0 && written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return os_error("write", tmp, err);
  }
  return tmp;
}

}  // namespace

crypto_result<done> sync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return os_error("open directory", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return os_error("fsync directory", dir, err);
  return done{};
}

crypto_result<done> ensure_private_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return crypto_error{"create directory " + dir + ": " + ec.message()};
  if (::chmod(dir.c_str(), 0700) != 0) return os_error("chmod 0700", dir, errno);
  return done{};
}

crypto_result<done> write_file_atomic(const std::string& path, std::string_view data,
                                      unsigned mode) {
  auto tmp = write_temp(path, data, mode);
  if (!tmp) return tmp.error();
  if (::rename(tmp.value().c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.value().c_str());
    return os_error("rename into", path, err);
  }
  return sync_directory(parent_of(path));
}

crypto_result<bool> create_file_exclusive(const std::string& path, std::string_view data,
                                          unsigned mode) {
  auto tmp = write_temp(path, data, mode);
  if (!tmp) return tmp.error();
  const int rc = ::link(tmp.value().c_str(), path.c_str());
  const int err = errno;
  ::unlink(tmp.value().c_str());
  if (rc != 0 && err == EEXIST) return false;
  if (rc != 0) return os_error("create", path, err);
  if (auto s = sync_directory(parent_of(path)); !s) return s.error();
  return true;
}

crypto_result<std::string> read_file(const std::string& path, size_t max_size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return os_error("open", path, errno);
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return os_error("read", path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_size) {
      ::close(fd);
      return crypto_error{"read " + path + ": larger than the " + std::to_string(max_size) +
                          " byte limit"};
    }
  }
  ::close(fd);
  return out;
}

crypto_result<done> remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return done{};
    return os_error("remove", path, errno);
  }
  return sync_directory(parent_of(path));
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace certctl::crypto
