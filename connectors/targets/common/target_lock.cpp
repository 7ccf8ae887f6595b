#include "connectors/targets/common/target_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

namespace certctl::connectors::targets {
namespace {

std::shared_ptr<std::mutex> mutex_of(const std::string& target_id) {
  static std::mutex registry_mu;
  static std::map<std::string, std::shared_ptr<std::mutex>> registry;
  std::lock_guard<std::mutex> lock(registry_mu);
  auto& mu = registry[target_id];
  if (!mu) mu = std::make_shared<std::mutex>();
  return mu;
}

}  // namespace

certctl::result<std::unique_ptr<target_lock>, std::string> target_lock::acquire(
    const std::string& target_id, const std::string& lock_path) {
  auto mu = mutex_of(target_id);
  mu->lock();
  const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    std::string why = "lock file " + lock_path + ": " + std::strerror(errno);
    mu->unlock();
    return why;
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    std::string why = "lock " + lock_path + ": " + std::strerror(errno);
    ::close(fd);
    mu->unlock();
    return why;
  }
  return std::unique_ptr<target_lock>(new target_lock(std::move(mu), fd));
}

target_lock::~target_lock() {
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
  mu_->unlock();
}

}  // namespace certctl::connectors::targets
