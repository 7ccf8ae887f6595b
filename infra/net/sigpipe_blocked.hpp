#pragma once
/// Blocks SIGPIPE on the calling thread for a scope. OpenSSL writes to sockets with plain
/// send(): a peer that hangs up would raise SIGPIPE and kill the process. SIGPIPE from a socket
/// write goes to the writing thread, so blocking it for the exchange and discarding one left
/// pending on exit is enough. Used by every TLS client that runs on a caller's thread.

#include <pthread.h>
#include <signal.h>

#include <ctime>

namespace certctl::net {

class sigpipe_blocked {
 public:
  sigpipe_blocked() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~sigpipe_blocked() {
    const timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  sigpipe_blocked(const sigpipe_blocked&) = delete;
  sigpipe_blocked& operator=(const sigpipe_blocked&) = delete;

 private:
  sigset_t pipe_;
  sigset_t old_;
};

}  // namespace certctl::net
