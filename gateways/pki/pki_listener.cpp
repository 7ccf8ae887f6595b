#include "gateways/pki/pki_listener.hpp"

#include "gateways/pki/http1_response.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace certctl::gateways::pki {
namespace {

using steady = std::chrono::steady_clock;

constexpr int max_events = 256;
constexpr int tick_ms = 100;          ///< epoll_wait timeout: how often deadlines are checked
constexpr size_t read_chunk = 16384;  ///< bytes per recv()
/// Answers waiting to be written beyond which a connection's pipelined requests wait: a client
/// that sends without reading costs at most this much (and is closed by the write timeout).
constexpr size_t max_pending_out = 256 * 1024;

std::string peer_address(const sockaddr_storage& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(a).sin_addr, buf, sizeof buf);
  else if (a.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(a).sin6_addr, buf, sizeof buf);
  return buf;
}

/// One client connection, owned by one I/O thread.
struct connection {
  int fd = -1;
  std::uint64_t id = 0;
  std::string remote;
  std::string in;
  std::string out;
  size_t out_off = 0;
  size_t needed = 0;  ///< parse again only once `in` has this many bytes
  size_t served = 0;  ///< requests taken from this connection
  bool busy = false;  ///< a worker is answering the current request
  bool close_after_write = false;
  bool peer_closed = false;      ///< the client shut down its side; answer what is buffered
  bool request_started = false;  ///< `in` holds part of a request; its deadline runs
  std::uint32_t interest = 0;    ///< epoll events registered
  steady::time_point deadline = steady::time_point::max();
};

struct completion {
  int fd = -1;
  std::uint64_t id = 0;
  std::string bytes;
  bool close = false;
};

struct job {
  size_t io = 0;
  int fd = -1;
  std::uint64_t id = 0;
  http::raw_request request;
  bool head = false;
  bool close = false;
};

struct io_thread {
  int epfd = -1;
  int wakefd = -1;
  std::unordered_map<int, std::unique_ptr<connection>> conns;
  std::mutex mu;
  std::vector<completion> done;  // guarded by mu
  std::thread thread;
};

}  // namespace

struct pki_listener::impl {
  listener_config cfg;
  listener_handler handler;
  int listen_fd = -1;
  int bound_port = 0;
  std::vector<std::unique_ptr<io_thread>> io;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open{0};
  std::atomic<std::uint64_t> next_id{1};
  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<job> jobs;  // guarded by jobs_mu
  std::vector<std::thread> workers;
  bool started = false;
  size_t read_cap = 0;  ///< buffered input beyond which a connection is not read

  impl(listener_config c, listener_handler h) : cfg(std::move(c)), handler(std::move(h)) {
    read_cap = cfg.limits.max_request_line + cfg.limits.max_header_bytes + cfg.limits.max_body +
               read_chunk;
  }

  void close_conn(io_thread& t, connection& c) {
    epoll_ctl(t.epfd, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    const int fd = c.fd;
    t.conns.erase(fd);  // destroys c
    open.fetch_sub(1);
  }

  void set_interest(io_thread& t, connection& c) {
    std::uint32_t want = 0;
    if (c.out_off < c.out.size()) want |= EPOLLOUT;
    if (!c.busy && !c.peer_closed && !c.close_after_write && c.in.size() < read_cap)
      want |= EPOLLIN | EPOLLRDHUP;
    if (want == c.interest) return;
    epoll_event ev{};
    ev.events = want;
    ev.data.fd = c.fd;
    epoll_ctl(t.epfd, EPOLL_CTL_MOD, c.fd, &ev);
    c.interest = want;
  }

  void queue_output(connection& c, std::string bytes, steady::time_point now) {
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
      c.deadline = now + cfg.request_timeout;  // the answer must drain within the timeout
    }
    c.out += bytes;
  }

  /// Writes what it can; false when the connection was closed.
  bool flush(io_thread& t, connection& c, steady::time_point now) {
    while (c.out_off < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        c.deadline = now + cfg.request_timeout;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      close_conn(t, c);
      return false;
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
      if (c.close_after_write) {
        close_conn(t, c);
        return false;
      }
      if (c.busy)
        c.deadline = steady::time_point::max();  // the worker answers; no client to wait for
      else if (!c.request_started)
        c.deadline = now + cfg.idle_timeout;
    }
    set_interest(t, c);
    return true;
  }

  /// Takes the buffered requests in order, answering each before the next; then flushes.
  bool process(io_thread& t, size_t io_index, connection& c, steady::time_point now) {
    for (;;) {
      take_requests(io_index, c, now);
      // A client that shut down its side gets the answers to what it sent, then the close.
      if (c.peer_closed && !c.busy && (c.in.empty() || c.request_started))
        c.close_after_write = true;
      if (c.close_after_write && c.out_off == c.out.size() && !c.busy) {
        close_conn(t, c);
        return false;
      }
      if (!flush(t, c, now)) return false;
      // Written at once while requests were held back (too many answers unwritten): carry on
      // with the pipeline now, as no event would come for it.
      const bool held_back = !c.busy && !c.close_after_write && !c.in.empty() &&
                             !c.request_started && c.out_off == c.out.size();
      if (!held_back) return true;
    }
  }

  /// Answers buffered requests until one is incomplete or goes to a worker, or answers pile
  /// up (a step of process()).
  void take_requests(size_t io_index, connection& c, steady::time_point now) {
    while (!c.busy && !c.close_after_write && c.out.size() - c.out_off < max_pending_out) {
      if (c.in.empty()) {
        c.request_started = false;
        break;
      }
      if (c.needed != 0 && c.in.size() < c.needed) break;
      parse_result r = parse_request(c.in, cfg.limits);
      if (r.status == parse_status::incomplete) {
        c.needed = r.needed;
        if (!c.request_started) {
          c.request_started = true;  // slowloris: the clock starts at the first byte
          c.deadline = now + cfg.request_timeout;
        }
        break;
      }
      c.needed = 0;
      c.request_started = false;
      r.request.remote_addr = c.remote;
      if (r.status == parse_status::error) {
        queue_output(
            c, serialize_response(handler.transport_error(r.request, r.error_status), false, true),
            now);
        c.close_after_write = true;
        break;
      }
      c.in.erase(0, r.consumed);
      ++c.served;
      const bool close = !r.keep_alive || c.peer_closed || c.served >= cfg.keep_alive_max_count;
      const bool head = r.request.method == "HEAD";
      std::optional<http::response> quick;
      if (handler.fast) quick = handler.fast(r.request);
      if (quick) {
        queue_output(c, serialize_response(*quick, head, close), now);
        if (close) c.close_after_write = true;
        continue;
      }
      c.busy = true;
      c.deadline = steady::time_point::max();
      {
        std::lock_guard<std::mutex> lock(jobs_mu);
        jobs.push_back(job{io_index, c.fd, c.id, std::move(r.request), head, close});
      }
      jobs_cv.notify_one();
    }
  }

  void on_readable(io_thread& t, size_t io_index, connection& c, steady::time_point now) {
    char buf[read_chunk];
    while (c.in.size() < read_cap) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        c.in.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        c.peer_closed = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      close_conn(t, c);
      return;
    }
    process(t, io_index, c, now);
  }

  void accept_all(io_thread& t, steady::time_point now) {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // EAGAIN: all taken; EMFILE and the like: try again on the next event
      }
      if (open.load() >= cfg.max_connections) {
        ::close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<connection>();
      c->fd = fd;
      c->id = next_id.fetch_add(1);
      c->remote = peer_address(addr);
      c->interest = EPOLLIN | EPOLLRDHUP;
      c->deadline = now + cfg.idle_timeout;
      epoll_event ev{};
      ev.events = c->interest;
      ev.data.fd = fd;
      if (epoll_ctl(t.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        continue;
      }
      open.fetch_add(1);
      t.conns[fd] = std::move(c);
    }
  }

  void on_completions(io_thread& t, size_t io_index, steady::time_point now) {
    std::uint64_t count = 0;
    while (::read(t.wakefd, &count, sizeof count) < 0 && errno == EINTR) {
    }
    std::vector<completion> done;
    {
      std::lock_guard<std::mutex> lock(t.mu);
      done.swap(t.done);
    }
    for (auto& d : done) {
      auto it = t.conns.find(d.fd);
      if (it == t.conns.end() || it->second->id != d.id) continue;  // the client left meanwhile
      connection& c = *it->second;
      c.busy = false;
      queue_output(c, std::move(d.bytes), now);
      if (d.close) c.close_after_write = true;
      process(t, io_index, c, now);
    }
  }

  void expire(io_thread& t, steady::time_point now) {
    std::vector<int> late;
    for (const auto& [fd, c] : t.conns)
      if (!c->busy && now >= c->deadline) late.push_back(fd);
    for (int fd : late) close_conn(t, *t.conns.at(fd));
  }

  void io_loop(size_t index) {
    io_thread& t = *io[index];
    epoll_event events[max_events];
    auto last_scan = steady::now();
    while (!stopping.load()) {
      const int n = epoll_wait(t.epfd, events, max_events, tick_ms);
      const auto now = steady::now();
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        const std::uint32_t ev = events[i].events;
        if (fd == listen_fd) {
          accept_all(t, now);
          continue;
        }
        if (fd == t.wakefd) {
          on_completions(t, index, now);
          continue;
        }
        auto it = t.conns.find(fd);
        if (it == t.conns.end()) continue;
        connection& c = *it->second;
        // Both directions gone (or an error): nobody is left to answer, even a busy one.
        if ((ev & (EPOLLERR | EPOLLHUP)) != 0) {
          close_conn(t, c);
          continue;
        }
        if ((ev & EPOLLOUT) != 0) {
          if (!flush(t, c, now)) continue;
          // Pipelined requests held back while the answers piled up.
          if (!c.busy && !c.in.empty() && c.out.size() - c.out_off < max_pending_out &&
              !process(t, index, c, now))
            continue;
        }
        if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) != 0) {
          if (!c.busy && !c.close_after_write && !c.peer_closed) on_readable(t, index, c, now);
        }
      }
      if (now - last_scan >= std::chrono::milliseconds(tick_ms)) {
        expire(t, now);
        last_scan = now;
      }
    }
    for (auto& [fd, c] : t.conns) ::close(fd);
    open.fetch_sub(t.conns.size());
    t.conns.clear();
  }

  void worker_loop() {
    for (;;) {
      job j;
      {
        std::unique_lock<std::mutex> lock(jobs_mu);
        jobs_cv.wait(lock, [&] { return stopping.load() || !jobs.empty(); });
        if (stopping.load()) return;
        j = std::move(jobs.front());
        jobs.pop_front();
      }
      http::response r;
      try {
        r = handler.handle(j.request);
      } catch (...) {
        r = handler.transport_error(j.request, 500);
      }
      io_thread& t = *io[j.io];
      {
        std::lock_guard<std::mutex> lock(t.mu);
        t.done.push_back(completion{j.fd, j.id, serialize_response(r, j.head, j.close), j.close});
      }
      const std::uint64_t one = 1;
      while (::write(t.wakefd, &one, sizeof one) < 0 && errno == EINTR) {
      }
    }
  }

  void raise_fd_limit() const {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    const rlim_t want = static_cast<rlim_t>(cfg.max_connections) + 1024;
    if (lim.rlim_cur >= want) return;
    lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? want : std::min(want, lim.rlim_max);
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  certctl::result<done, http::server_error> bind_and_listen() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(cfg.port);
    if (const int rc = getaddrinfo(cfg.host.c_str(), port.c_str(), &hints, &res); rc != 0)
      return http::server_error{"PKI listener: " + cfg.host + ": " + gai_strerror(rc)};
    std::string why = "no address";
    for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
      const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      const int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) {
        listen_fd = fd;
        break;
      }
      why = std::strerror(errno);
      ::close(fd);
    }
    freeaddrinfo(res);
    if (listen_fd < 0)
      return http::server_error{"PKI listener: cannot listen on " + cfg.host + ":" + port + ": " +
                                why};
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    getsockname(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    bound_port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(addr).sin6_port)
                                            : ntohs(reinterpret_cast<sockaddr_in&>(addr).sin_port);
    return done{};
  }
};

pki_listener::pki_listener(listener_config config, listener_handler handler)
    : impl_(std::make_unique<impl>(std::move(config), std::move(handler))) {}

pki_listener::~pki_listener() {
  stop();
}

certctl::result<done, http::server_error> pki_listener::start() {
  impl& m = *impl_;
  if (m.started) return http::server_error{"PKI listener: already started"};
  m.raise_fd_limit();
  if (auto b = m.bind_and_listen(); !b) return b.error();
  size_t n = m.cfg.io_threads;
  if (n == 0) n = std::max<size_t>(1, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) {
    auto t = std::make_unique<io_thread>();
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    t->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->epfd < 0 || t->wakefd < 0)
      return http::server_error{std::string("PKI listener: ") + std::strerror(errno)};
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;  // one thread wakes per new connection
    ev.data.fd = m.listen_fd;
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, m.listen_fd, &ev);
    ev.events = EPOLLIN;
    ev.data.fd = t->wakefd;
    epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->wakefd, &ev);
    m.io.push_back(std::move(t));
  }
  m.started = true;
  for (size_t i = 0; i < m.io.size(); ++i) m.io[i]->thread = std::thread([&m, i] { m.io_loop(i); });
  for (size_t i = 0; i < std::max<size_t>(1, m.cfg.workers); ++i)
    m.workers.emplace_back([&m] { m.worker_loop(); });
  return done{};
}

void pki_listener::stop() {
  impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopping.store(true);
  {
    std::lock_guard<std::mutex> lock(m.jobs_mu);
    m.jobs_cv.notify_all();
  }
  for (auto& w : m.workers) w.join();  // before the eventfds they write to are closed
  m.workers.clear();
  for (auto& t : m.io) {
    const std::uint64_t one = 1;
    (void)!::write(t->wakefd, &one, sizeof one);
  }
  for (auto& t : m.io) t->thread.join();
  for (auto& t : m.io) {
    ::close(t->epfd);
    ::close(t->wakefd);
  }
  m.io.clear();
  ::close(m.listen_fd);
  m.listen_fd = -1;
}

int pki_listener::port() const {
  return impl_->bound_port;
}

std::size_t pki_listener::open_connections() const {
  return impl_->open.load();
}

}  // namespace certctl::gateways::pki
