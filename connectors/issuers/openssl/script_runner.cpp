#include "connectors/issuers/openssl/script_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "infra/net/sigpipe_blocked.hpp"

namespace certctl::connectors::openssl_ca {
namespace {

using steady = std::chrono::steady_clock;

bool trusted_owner(uid_t uid) {
  return uid == 0 || uid == ::geteuid();
}

/// Closes a descriptor once.
struct fd_guard {
  int fd = -1;
  ~fd_guard() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

certctl::result<std::string, path_refused> check_script_path(const std::string& path) {
  if (path.empty() || path.front() != '/')
    return path_refused{"script path '" + path + "' must be absolute"};
  char real[PATH_MAX];
  if (::realpath(path.c_str(), real) == nullptr)
    return path_refused{"script '" + path + "': " + std::strerror(errno)};
  const std::string canonical = real;
  struct stat st {};
  if (::stat(canonical.c_str(), &st) != 0)
    return path_refused{"script '" + path + "': " + std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return path_refused{"script '" + path + "' is not a regular file"};
  if (!trusted_owner(st.st_uid))
    return path_refused{"script '" + path + "' must be owned by root or the server's user"};
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    return path_refused{"script '" + path + "' is writable by group or others"};
  if (::access(canonical.c_str(), X_OK) != 0)
    return path_refused{"script '" + path + "' is not executable"};
  // Every directory from / down to the script's: whoever may write one may swap what follows.
  std::string dir = canonical.substr(0, canonical.rfind('/'));
  std::vector<std::string> dirs;
  for (std::string d = dir; !d.empty(); d = d.substr(0, d.rfind('/'))) dirs.push_back(d);
  dirs.push_back("/");
  uid_t child_owner = st.st_uid;  // owner of the entry below the directory being checked
  for (const auto& d : dirs) {
    struct stat ds {};
    if (::stat(d.c_str(), &ds) != 0)
      return path_refused{"directory '" + d + "': " + std::strerror(errno)};
    if (!trusted_owner(ds.st_uid))
      return path_refused{"directory '" + d +
                          "' above the script must be owned by root or the server's user"};
    const bool writable = (ds.st_mode & (S_IWGRP | S_IWOTH)) != 0;
    const bool sticky = (ds.st_mode & S_ISVTX) != 0;
    if (writable && !(sticky && trusted_owner(child_owner)))
      return path_refused{"directory '" + d + "' above the script is writable by group or others"};
    child_owner = ds.st_uid;
  }
  return canonical;
}

certctl::result<script_result, script_error> run_script(const std::vector<std::string>& argv,
                                                        const std::vector<std::string>& env,
                                                        const std::string& input,
                                                        const script_limits& limits) {
  if (argv.empty() || argv.front().empty() || argv.front().front() != '/')
    return script_error{script_errc::spawn_failed, "script path must be absolute"};
  // A script that exits without reading its stdin turns our next write into SIGPIPE, which
  // would end the server: blocked on this thread for the run (the child gets the default back).
  const net::sigpipe_blocked no_sigpipe;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return script_error{script_errc::io_error, "pipe"};
  fd_guard in_r{in[0]}, in_w{in[1]};
  if (::pipe2(out, O_CLOEXEC) != 0) return script_error{script_errc::io_error, "pipe"};
  fd_guard out_r{out[0]}, out_w{out[1]};
  if (::pipe2(err, O_CLOEXEC) != 0) return script_error{script_errc::io_error, "pipe"};
  fd_guard err_r{err[0]}, err_w{err[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills what the script started too (openssl, ...).
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return script_error{script_errc::spawn_failed,
                        "cannot start " + argv[0] + ": " + std::strerror(rc)};
  in_r.reset();
  out_w.reset();
  err_w.reset();

  const auto deadline = steady::now() + limits.timeout;
  script_result res;
  std::size_t written = 0;
  if (input.empty()) in_w.reset();
  std::optional<script_error> failure;
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) {
      failure = script_error{script_errc::timeout,
                             "script did not finish within " +
                                 std::to_string(limits.timeout.count() / 1000.0).substr(0, 5) +
                                 " s and was killed"};
      break;
    }
    pollfd fds[3];
    nfds_t n = 0;
    if (in_w.fd >= 0) fds[n++] = {in_w.fd, POLLOUT, 0};
    if (out_r.fd >= 0) fds[n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0) fds[n++] = {err_r.fd, POLLIN, 0};
    const int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left, INT_MAX)));
    if (ready < 0 && errno != EINTR) {
      failure = script_error{script_errc::io_error, std::string("poll: ") + std::strerror(errno)};
      break;
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_w.fd) {
        const ssize_t w = ::write(in_w.fd, input.data() + written, input.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        // A script that does not read its stdin is its business: stop feeding it.
        if (w < 0 || written == input.size()) in_w.reset();
        continue;
      }
      const bool is_out = fds[i].fd == out_r.fd;
      char buf[8192];
      const ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        (is_out ? out_r : err_r).reset();
        continue;
      }
      std::string& sink = is_out ? res.out : res.err;
      const std::size_t cap = is_out ? limits.max_stdout : limits.max_stderr;
      if (sink.size() + static_cast<std::size_t>(r) > cap) {
        sink.append(buf, cap - sink.size());
        if (is_out) {
          failure = script_error{
              script_errc::output_too_large,
              "script output passed the " + std::to_string(cap) + " byte limit; it was killed"};
          break;
        }
        continue;  // stderr beyond the cap is dropped, the script keeps running
      }
      sink.append(buf, static_cast<std::size_t>(r));
    }
    if (failure) break;
  }
  if (failure) ::kill(-pid, SIGKILL);
  int status = 0;
  // After both pipes closed the script has exited or is about to; a script that closed its
  // output but keeps running still meets the deadline.
  for (;;) {
    const pid_t w = ::waitpid(pid, &status, failure ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (w == 0) {
      if (steady::now() >= deadline) {
        ::kill(-pid, SIGKILL);
        failure = script_error{script_errc::timeout, "script did not exit in time and was killed"};
        continue;
      }
      ::usleep(2000);
    }
  }
  if (failure) return *failure;
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return res;
}

}  // namespace certctl::connectors::openssl_ca
