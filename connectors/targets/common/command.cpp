#include "connectors/targets/common/command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace certctl::connectors::targets {
namespace {

using steady = std::chrono::steady_clock;

constexpr char metacharacters[] = ";&|$`<>(){}[]*?!~'\"\\#%";

/// Keeps at most the last `cap` bytes of what a command wrote, counting what was cut.
struct tail_buffer {
  std::size_t cap;
  std::string data;
  std::size_t cut = 0;
  void append(const char* p, std::size_t n) {
    data.append(p, n);
    if (data.size() > cap) {
      cut += data.size() - cap;
      data.erase(0, data.size() - cap);
    }
  }
  std::string text() const {
    if (cut == 0) return data;
    return "[... " + std::to_string(cut) + " bytes cut]\n" + data;
  }
};

}  // namespace

certctl::result<std::vector<std::string>, std::string> parse_command(const std::string& text) {
  std::vector<std::string> argv;
  std::string word;
  for (const char c : text) {
    if (std::strchr(metacharacters, c) != nullptr && c != '\0')
      return "the command contains the shell metacharacter '" + std::string(1, c) +
             "'; commands run without a shell, give the program and its arguments only";
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ') {
      if (!word.empty()) argv.push_back(std::move(word));
      word.clear();
      continue;
    }
    if (u < 0x20 || u == 0x7f) return std::string("the command contains a control character");
    word.push_back(c);
  }
  if (!word.empty()) argv.push_back(std::move(word));
  if (argv.empty()) return std::string("the command is empty");
  return argv;
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::string command_outcome::describe(const std::vector<std::string>& argv) const {
  std::string head = "`" + join_argv(argv) + "`";
  if (timed_out)
    head += " did not finish in time and was killed";
  else if (exit_code < 0)
    head += " ended abnormally";
  else
    head += " exited with " + std::to_string(exit_code);
  if (output.empty()) return head;
  return head + ": " + output;
}

command_outcome run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            std::size_t output_cap) {
  command_outcome out;
  if (argv.empty()) {
    out.exit_code = 127;
    out.output = "no command";
    return out;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    out.output = std::string("cannot create a pipe: ") + std::strerror(errno);
    return out;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills what the command started too (apachectl runs
  // apache2, a wrapper script its tools).
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (spawned != 0) {
    ::close(fds[0]);
    out.exit_code = 127;
    out.output = argv[0] + ": " + std::strerror(spawned);
    return out;
  }

  tail_buffer buf{output_cap, {}, 0};
  const auto deadline = steady::now() + timeout;
  int status = 0;
  bool exited = false;
  bool pipe_open = true;
  // Reads until the command exits and its output is drained. The direct child's exit ends
  // the wait even when a process it started keeps the pipe open (a reload command that starts
  // the daemon, which then holds our stdout): such a daemon must not turn into a timeout.
  while (!exited || pipe_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()).count();
    if (left <= 0) {
      out.timed_out = !exited;
      break;
    }
    if (!exited) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid || (w < 0 && errno != EINTR)) exited = true;
      if (w < 0 && errno != EINTR) status = -1;
    }
    if (!pipe_open) {
      ::usleep(10 * 1000);  // output is drained; the process is exiting, look again shortly
      continue;
    }
    pollfd p{fds[0], POLLIN, 0};
    // After the exit only what is already buffered is read (timeout 0).
    const int ready = ::poll(&p, 1, exited ? 0 : static_cast<int>(std::min<long>(left, 50)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (exited) break;
      continue;
    }
    char chunk[4096];
    const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      pipe_open = false;
      continue;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (out.timed_out) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!out.timed_out && status != -1 && WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  out.output = buf.text();
  while (!out.output.empty() && (out.output.back() == '\n' || out.output.back() == '\r'))
    out.output.pop_back();
  return out;
}

}  // namespace certctl::connectors::targets
