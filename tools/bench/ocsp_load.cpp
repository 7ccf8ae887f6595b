#include "tools/bench/ocsp_load.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

struct client_conn {
  int fd = -1;
  bool connected = false;
  std::string out;
  size_t off = 0;
  std::string in;
  steady::time_point sent;
  size_t next = 0;                                     ///< index of the next body
  bool waiting = false;                                ///< a request is out
  bool answered = false;                               ///< got at least one successful answer
  steady::time_point due = steady::time_point::max();  ///< open loop: next scheduled send
};

int open_socket(const sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 &&
      errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

/// Case-insensitive search for a header's value in a response head; empty when absent.
std::string header_value(const std::string& head, const std::string& lower_name) {
  std::string lower(head);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto p = lower.find("\r\n" + lower_name + ":");
  if (p == std::string::npos) return {};
  auto v = p + 2 + lower_name.size() + 1;
  while (v < head.size() && head[v] == ' ') ++v;
  return lower.substr(v, lower.find("\r\n", v) - v);
}

class load_thread {
 public:
  load_thread(const ocsp_load_options& o, const sockaddr_in& addr, size_t count, size_t first)
      : o_(o), addr_(addr), conns_(count) {
    for (size_t i = 0; i < count; ++i) conns_[i].next = first + i;
    if (o.rate > 0)
      interval_ = std::chrono::duration_cast<steady::duration>(
          std::chrono::duration<double>(static_cast<double>(o.connections) / o.rate));
    first_ = first;
  }

  void run(steady::time_point start, steady::time_point end, ocsp_load_result& out) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    for (size_t i = 0; i < conns_.size(); ++i) {
      open(i, out);
      // Open loop: the connections' schedules are spread evenly over one interval.
      if (interval_.count() > 0)
        conns_[i].due = start + std::chrono::duration_cast<steady::duration>(
                                    interval_ * static_cast<double>(first_ + i) /
                                    static_cast<double>(o_.connections));
    }
    epoll_event events[256];
    size_t open_count = conns_.size();
    bool draining = false;
    while (open_count > 0) {
      const auto now = steady::now();
      if (now >= end + std::chrono::seconds(10)) break;  // answers still missing: failures
      if (now >= end && !draining) draining = true;
      int timeout_ms = 50;
      if (interval_.count() > 0 && !draining) {
        for (size_t i = 0; i < conns_.size(); ++i) {
          client_conn& c = conns_[i];
          if (c.fd < 0 || !c.connected || c.waiting) continue;
          if (c.due <= now) {
            send_next(i);
            continue;
          }
          // Rounded up: a send is at most 1 ms late (counted in its latency) rather than
          // the client spinning on the cores it shares with the server.
          const auto left =
              std::chrono::duration_cast<std::chrono::microseconds>(c.due - now).count();
          timeout_ms = std::min<int>(timeout_ms, static_cast<int>((left + 999) / 1000));
        }
      }
      const int n = epoll_wait(ep_, events, 256, timeout_ms);
      for (int e = 0; e < n; ++e) {
        const size_t i = events[e].data.u64;
        client_conn& c = conns_[i];
        if (c.fd < 0) continue;
        if (!c.connected) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            fail(out, "connect: " + std::string(std::strerror(err)));
            reopen(i, out, draining, open_count);
            continue;
          }
          c.connected = true;
          if (interval_.count() == 0) send_next(i);  // open loop: sent when due
        }
        if ((events[e].events & EPOLLOUT) != 0 && !flush(c)) {
          fail(out, "write");
          reopen(i, out, draining, open_count);
          continue;
        }
        if ((events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0)
          on_readable(i, start, end, out, draining, open_count);
      }
    }
    for (auto& c : conns_) {
      // A request still out, or a connection never accepted (its request never sent).
      if (c.fd >= 0 && (c.waiting || !c.connected))
        fail(out, c.connected ? "no answer before the end" : "connect not completed");
      if (c.fd >= 0) ::close(c.fd);
      if (c.answered) ++out.answered_connections;
    }
    ::close(ep_);
  }

 private:
  void fail(ocsp_load_result& out, const std::string& why) {
    if (out.failures++ == 0) out.first_failure = why;
  }

  void open(size_t i, ocsp_load_result& out) {
    client_conn& c = conns_[i];
    c.fd = open_socket(addr_);
    c.connected = false;
    c.waiting = false;
    c.in.clear();
    c.out.clear();
    c.off = 0;
    if (c.fd < 0) {
      fail(out, "socket: " + std::string(std::strerror(errno)));
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void reopen(size_t i, ocsp_load_result& out, bool draining, size_t& open_count) {
    ::close(conns_[i].fd);
    conns_[i].fd = -1;
    if (draining) {
      --open_count;
      return;
    }
    ++out.reconnects;
    open(i, out);
    if (conns_[i].fd < 0) --open_count;
  }

  void send_next(size_t i) {
    client_conn& c = conns_[i];
    c.waiting = true;
    const std::string& body = o_.bodies[c.next % o_.bodies.size()];
    c.next += conns_.size();
    c.out = "POST " + o_.path + " HTTP/1.1\r\nHost: " + o_.host +
            "\r\nContent-Type: application/ocsp-request\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body;
    c.off = 0;
    c.sent = steady::now();
    if (interval_.count() > 0) {
      c.sent = c.due;  // latency from the schedule: coordinated omission is not hidden
      c.due += interval_;
    }
    flush(c);
  }

  bool flush(client_conn& c) {
    while (c.off < c.out.size()) {
      const ssize_t n = ::send(c.fd, c.out.data() + c.off, c.out.size() - c.off, MSG_NOSIGNAL);
      if (n > 0) {
        c.off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | (c.off < c.out.size() ? EPOLLOUT : 0u);
    ev.data.u64 = static_cast<std::uint64_t>(&c - conns_.data());
    epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
    return true;
  }

  void on_readable(size_t i, steady::time_point start, steady::time_point end,
                   ocsp_load_result& out, bool draining, size_t& open_count) {
    client_conn& c = conns_[i];
    char buf[16384];
    bool eof = false;
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      eof = true;
      break;
    }
    const auto head_end = c.in.find("\r\n\r\n");
    size_t length = 0;
    bool whole = false;
    if (head_end != std::string::npos) {
      length = std::stoul("0" + header_value(c.in.substr(0, head_end + 2), "content-length"));
      whole = c.in.size() >= head_end + 4 + length;
    }
    if (!whole) {
      if (eof) {
        if (c.off > 0) fail(out, "Read (connection closed before the answer)");
        reopen(i, out, draining, open_count);
      }
      return;
    }
    const auto t1 = steady::now();
    const std::string head = c.in.substr(0, head_end + 2);
    const std::string body = c.in.substr(head_end + 4, length);
    c.in.erase(0, head_end + 4 + length);
    const bool ok = head.compare(0, 12, "HTTP/1.1 200") == 0 && body.size() > 8 &&
                    body.find(std::string("\x0a\x01\x00", 3)) < 8;
    if (!ok)
      fail(out, "HTTP " + head.substr(9, 3));
    else if (c.sent >= start && c.sent < end)  // also when answered late: a wait counts
      out.latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - c.sent).count());
    if (ok) c.answered = true;
    c.off = 0;
    c.out.clear();
    c.waiting = false;
    if (eof || header_value(head, "connection") == "close") {
      reopen(i, out, draining, open_count);
      return;
    }
    if (draining || t1 >= end) {
      ::close(c.fd);
      c.fd = -1;
      --open_count;
      return;
    }
    if (interval_.count() == 0) send_next(i);
  }

  const ocsp_load_options& o_;
  sockaddr_in addr_;
  std::vector<client_conn> conns_;
  int ep_ = -1;
  steady::duration interval_{0};  ///< open loop: time between one connection's requests
  size_t first_ = 0;
};

}  // namespace

void raise_fd_limit(std::size_t needed) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= needed) return;
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

ocsp_load_result run_ocsp_load(const ocsp_load_options& o) {
  raise_fd_limit(o.connections + 256);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  const size_t threads = std::max<size_t>(1, std::min(o.threads, o.connections));
  std::vector<std::unique_ptr<load_thread>> loaders;
  std::vector<ocsp_load_result> results(threads);
  size_t first = 0;
  for (size_t t = 0; t < threads; ++t) {
    const size_t count = o.connections / threads + (t < o.connections % threads ? 1 : 0);
    loaders.push_back(std::make_unique<load_thread>(o, addr, count, first));
    first += count;
  }
  // Connections open and send their first request at once; the measured window starts a
  // moment later so that connection setup is not counted as request latency.
  const auto start = steady::now() + std::chrono::milliseconds(500);
  const auto end = start + o.duration;
  std::vector<std::thread> running;
  for (size_t t = 0; t < threads; ++t)
    running.emplace_back([&, t] { loaders[t]->run(start, end, results[t]); });
  for (auto& th : running) th.join();
  ocsp_load_result out;
  out.elapsed_s = std::chrono::duration<double>(o.duration).count();
  for (auto& r : results) {
    out.latencies_us.insert(out.latencies_us.end(), r.latencies_us.begin(), r.latencies_us.end());
    if (r.failures != 0 && out.failures == 0) out.first_failure = r.first_failure;
    out.failures += r.failures;
    out.reconnects += r.reconnects;
    out.answered_connections += r.answered_connections;
  }
  return out;
}

}  // namespace certctl::bench
