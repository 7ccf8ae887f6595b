#include "gateways/stream/event_routes.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "events/event_codec.hpp"
#include "gateways/http/json.hpp"

namespace certctl::gateways::stream {
using http::role;

namespace {

constexpr std::int64_t default_limit = 100;
constexpr std::int64_t max_limit = 1000;
constexpr std::size_t max_type_filters = 100;
/// Events one catch-up read takes from the log; small enough that a call returns quickly.
constexpr std::size_t catch_up_page = 100;
/// Longest a stream call waits for an event, so shutdown is noticed promptly.
constexpr std::chrono::milliseconds wait_slice{100};

/// A log position as a client writes it: decimal digits only (no sign, no spaces).
std::optional<std::int64_t> parse_position(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

/// Exact event types to keep; empty keeps all. `type` may repeat and may hold a comma list.
std::optional<std::set<std::string>> type_filter(const http::request_context& c,
                                                 http::response& err) {
  std::set<std::string> types;
  const auto range = c.query_params().equal_range("type");
  for (auto it = range.first; it != range.second; ++it) {
    std::size_t start = 0;
    while (start <= it->second.size()) {
      auto comma = it->second.find(',', start);
      if (comma == std::string::npos) comma = it->second.size();
      std::string t = it->second.substr(start, comma - start);
      t.erase(0, t.find_first_not_of(' '));
      t.erase(t.find_last_not_of(' ') + 1);
      if (!t.empty()) types.insert(std::move(t));
      start = comma + 1;
    }
  }
  if (types.size() > max_type_filters) {
    err = http::error_response(
        400, "at most " + std::to_string(max_type_filters) + " event types may be filtered");
    return std::nullopt;
  }
  return types;
}

bool wanted(const std::set<std::string>& types, const std::string& type) {
  return types.empty() || types.count(type) > 0;
}

/// The position to continue after: `text` (from ?after= or Last-Event-ID), validated against
/// the log head, because a position the log has not reached is a client bug, not "wait".
std::optional<std::int64_t> start_after(const std::string& text, const char* what,
                                        std::int64_t head, http::response& err) {
  auto v = parse_position(text);
  if (!v) {
    err =
        http::error_response(400, std::string(what) + " must be a log position (an integer >= 0)");
    return std::nullopt;
  }
  if (*v > head) {
    err = http::error_response(400, std::string(what) + " " + text +
                                        " is beyond the head of the log (" + std::to_string(head) +
                                        ")");
    return std::nullopt;
  }
  return v;
}

http::response list_events(event_context& ctx, const http::request_context& c) {
  http::response err;
  auto types = type_filter(c, err);
  if (!types) return err;
  std::int64_t limit = default_limit;
  if (auto v = c.query("limit"); v && !v->empty()) {
    auto n = parse_position(*v);
    if (!n || *n < 1)
      return http::error_response(400, "query parameter 'limit' must be an integer >= 1");
    limit = std::min(*n, max_limit);
  }
  auto head = ctx.store.head_position();
  if (!head) return http::error_response(503, "event log unavailable: " + head.error().message);
  auto after = start_after(c.query("after").value_or("0"), "query parameter 'after'", *head, err);
  if (!after) return err;

  // With a type filter, skipping non-matching events costs reads; bound the scan so one request
  // stays cheap. next_after then names the last position examined, and the client continues.
  const std::int64_t scan_budget =
      types->empty() ? limit : std::max<std::int64_t>(limit * 10, 5000);
  std::vector<events::recorded_event> out;
  std::int64_t last = *after;
  while (static_cast<std::int64_t>(out.size()) < limit && last < *head &&
         last - *after < scan_budget) {
    const auto want = static_cast<std::size_t>(
        std::min<std::int64_t>({*head - last, scan_budget - (last - *after), max_limit}));
    auto batch = ctx.store.read_all(last + 1, want);
    if (!batch) return http::error_response(503, "event log unavailable: " + batch.error().message);
    if (batch->empty()) break;
    for (auto& e : *batch) {
      if (e.position > *head) break;
      last = e.position;
      if (wanted(*types, e.type)) out.push_back(std::move(e));
      if (static_cast<std::int64_t>(out.size()) == limit) break;
    }
  }
  http::json_writer w;
  w.begin_object().key("data").begin_array();
  for (const auto& e : out) w.raw(events::to_json(e));
  w.end_array().field("next_after", last).field("head", *head).end_object();
  return http::json_response(w.str());
}

std::string sse_frame(const events::recorded_event& e) {
  return "id: " + std::to_string(e.position) + "\nevent: " + e.type +
         "\ndata: " + events::to_json(e) + "\n\n";
}

/// One SSE client. Catch-up reads the log at the client's pace (the log is the buffer, so a
/// slow reader of old events is never cut off); once caught up, a subscription feeds live
/// events into a bounded queue the request thread drains. A client that stops reading fills
/// the queue and is disconnected; it resumes with Last-Event-ID.
class sse_session {
 public:
  sse_session(event_context& ctx, std::int64_t after, std::set<std::string> types)
      : ctx_(ctx), next_(after + 1), types_(std::move(types)) {}

  ~sse_session() {
    // Joins the subscription thread before the queue it writes to goes away.
    if (sub_) sub_->stop();
    sub_.reset();
    ctx_.open_streams.fetch_sub(1);
  }
  sse_session(const sse_session&) = delete;
  sse_session& operator=(const sse_session&) = delete;

  http::stream_step step(const http::chunk_writer& write) {
    if (!started_) {
      started_ = true;
      // Sent at once so the client knows the stream is open before any event exists.
      return send(write, ": stream after position " + std::to_string(next_ - 1) + "\n\n");
    }
    return sub_ ? live_step(write) : catch_up_step(write);
  }

 private:
  http::stream_step send(const http::chunk_writer& write, const std::string& text) {
    if (!write(text)) return http::stream_step::abort;
    last_write_ = std::chrono::steady_clock::now();
    return http::stream_step::more;
  }

  http::stream_step keep_alive(const http::chunk_writer& write) {
    if (std::chrono::steady_clock::now() - last_write_ < ctx_.stream.keep_alive)
      return http::stream_step::more;
    return send(write, ": keep-alive\n\n");
  }

  http::stream_step catch_up_step(const http::chunk_writer& write) {
    auto batch = ctx_.store.read_all(next_, catch_up_page);
    if (!batch) return http::stream_step::abort;
    for (const auto& e : *batch) {
      next_ = e.position + 1;
      if (wanted(types_, e.type) && send(write, sse_frame(e)) == http::stream_step::abort)
        return http::stream_step::abort;
    }
    if (batch->size() < catch_up_page) {
      // Caught up: from here the subscription delivers, with no gap and no duplicate.
      sub_ = ctx_.store.subscribe(next_, [this](const events::recorded_event& e) { offer(e); });
    }
    return keep_alive(write);
  }

  /// Runs on the subscription thread; never blocks on the client.
  void offer(const events::recorded_event& e) {
    if (!wanted(types_, e.type)) return;
    std::string frame = sse_frame(e);
    std::lock_guard<std::mutex> lock(mutex_);
    if (overflow_) return;
    if (queue_.size() >= ctx_.stream.max_buffered_events ||
        queued_bytes_ + frame.size() > ctx_.stream.max_buffered_bytes) {
      overflow_ = true;
      queue_.clear();
      queued_bytes_ = 0;
    } else {
      queued_bytes_ += frame.size();
      queue_.push_back(std::move(frame));
    }
    ready_.notify_one();
  }

  http::stream_step live_step(const http::chunk_writer& write) {
    std::deque<std::string> frames;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait_for(lock, wait_slice, [this] { return overflow_ || !queue_.empty(); });
      if (overflow_) return http::stream_step::abort;
      frames.swap(queue_);
      queued_bytes_ = 0;
    }
    for (const auto& f : frames)
      if (send(write, f) == http::stream_step::abort) return http::stream_step::abort;
    return keep_alive(write);
  }

  event_context& ctx_;
  std::int64_t next_;  ///< next position catch-up reads
  std::set<std::string> types_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::string> queue_;  ///< rendered live frames not yet written
  std::size_t queued_bytes_ = 0;
  bool overflow_ = false;
  std::unique_ptr<store::subscription> sub_;
};

http::response open_stream(event_context& ctx, const http::request_context& c) {
  http::response err;
  auto types = type_filter(c, err);
  if (!types) return err;
  auto head = ctx.store.head_position();
  if (!head) return http::error_response(503, "event log unavailable: " + head.error().message);
  // The header wins: it is what an EventSource sends when it reconnects. An empty one is how
  // a server may reset the id, so it counts as absent.
  std::optional<std::int64_t> after = 0;
  if (auto id = c.header("Last-Event-ID"); id && !id->empty()) {
    after = start_after(*id, "Last-Event-ID", *head, err);
  } else if (auto q = c.query("after")) {
    after = start_after(*q, "query parameter 'after'", *head, err);
  }
  if (!after) return err;
  if (ctx.open_streams.fetch_add(1) >= ctx.stream.max_streams) {
    ctx.open_streams.fetch_sub(1);
    return http::error_response(503, "too many open event streams; retry later")
        .with_header("Retry-After", "5");
  }
  auto session = std::make_shared<sse_session>(ctx, *after, std::move(*types));
  return http::stream_response("text/event-stream",
                               [session](const http::chunk_writer& w) { return session->step(w); })
      .with_header("X-Accel-Buffering", "no");  // reverse proxies must not hold frames back
}

}  // namespace

void add_event_routes(http::router& r, event_context& ctx) {
  r.add("GET", "/api/v1/events", http::audit_readers(),
        [&ctx](http::request_context& c) { return list_events(ctx, c); });
  r.add("GET", "/api/v1/events/stream", http::audit_readers(),
        [&ctx](http::request_context& c) { return open_stream(ctx, c); });
}

}  // namespace certctl::gateways::stream
