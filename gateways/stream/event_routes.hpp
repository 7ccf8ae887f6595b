#pragma once
/// The event log over HTTP (DESIGN §8, docs/events.md): a paged read and a Server-Sent Events
/// stream that resumes from Last-Event-ID. Both read the log itself, not a projection, so a
/// consumer sees every committed event in position order.
///
///   GET /api/v1/events?after=P&limit=N&type=T   {"data":[event...],"next_after":P,"head":H}
///   GET /api/v1/events/stream?after=P&type=T    text/event-stream, one frame per event:
///                                               id: <position>\nevent: <type>\ndata: <json>\n\n

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>

#include "gateways/http/router.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::stream {

/// Limits of the SSE endpoint (from CERTCTL_SSE_*, parsed by infra/config). Each open stream
/// holds one HTTP worker thread (and, once it has caught up with the log, one subscription
/// thread), hence the stream cap.
struct event_stream_options {
  /// A comment line is sent after this long without an event, so proxies and clients can tell
  /// an idle stream from a dead one.
  std::chrono::milliseconds keep_alive{15000};
  /// Live events waiting for a client that does not read; when either bound is reached the
  /// client is disconnected (it resumes later with Last-Event-ID) instead of buffering more.
  std::size_t max_buffered_events = 1000;
  std::size_t max_buffered_bytes = 4u << 20;
  /// Concurrent streams; more get 503 so streams cannot starve the API's worker threads.
  std::size_t max_streams = 16;
};

struct event_context {
  store::event_store& store;
  event_stream_options stream;
  /// Open SSE streams; shared by all request threads.
  std::atomic<std::size_t> open_streams{0};
};

/// Both routes need role viewer. `ctx` must outlive the HTTP server.
void add_event_routes(gateways::http::router& r, event_context& ctx);

}  // namespace certctl::gateways::stream
