#include "gateways/rest/cluster_routes.hpp"

#include <cstdio>
#include <map>

#include "events/json.hpp"
#include "events/time.hpp"

namespace certctl::gateways::rest {

namespace {

std::string int_array(const std::vector<int>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
  return out + "]";
}

// Averages in milliseconds over this node's lifetime (docs/cluster.md "Forward timing").
std::string forward_timing(const kafka::bus_timing& t) {
  const auto avg = [](std::uint64_t sum_us, std::uint64_t n) {
    char out[32];
    std::snprintf(out, sizeof out, "%.3f",
                  n == 0 ? 0.0 : static_cast<double>(sum_us) / 1000.0 / static_cast<double>(n));
    return std::string(out);
  };
  events::json_object o;
  o.set("round_trips", static_cast<std::int64_t>(t.round_trips))
      .set_raw("round_trip_ms", avg(t.round_trip_us, t.round_trips))
      .set_raw("command_ack_ms", avg(t.command_ack_us, t.command_acks))
      .set_raw("reply_transit_ms", avg(t.reply_transit_us, t.replies))
      .set("executed", static_cast<std::int64_t>(t.executed))
      .set_raw("command_transit_ms", avg(t.command_transit_us, t.commands))
      .set_raw("execute_ms", avg(t.execute_us, t.executed));
  return o.dump();
}

std::string this_node(const cluster::node_status& s) {
  events::json_object o;
  o.set("node_id", s.node_id)
      .set("joined", s.joined)
      .set("partitions", s.partitions)
      .set_raw("owned", int_array(s.owned))
      .set("forwarded_commands", static_cast<std::int64_t>(s.forwarded))
      .set("received_commands", static_cast<std::int64_t>(s.received))
      .set("rejected_commands", static_cast<std::int64_t>(s.rejected))
      .set("certificate_requests", static_cast<std::int64_t>(s.certificate_requests));
  events::json_object kinds;
  for (const auto& [kind, n] : s.forwarded_by_kind)
    kinds.set(kind.c_str(), static_cast<std::int64_t>(n));
  o.set_raw("forwarded_by_kind", kinds.dump());
  // Over this node's lifetime, counting every forwarded command (schedulers' too): the
  // affinity target is at most 1 (docs/cluster.md "Affinity").
  char per_cert[32];
  std::snprintf(per_cert, sizeof per_cert, "%.3f",
                s.certificate_requests == 0 ? 0.0
                                            : static_cast<double>(s.forwarded) /
                                                  static_cast<double>(s.certificate_requests));
  o.set_raw("forwarded_commands_per_certificate", per_cert);
  o.set_raw("forward_timing", forward_timing(s.timing));
  if (!s.last_error.empty()) o.set("last_error", s.last_error);
  std::string lag = "[";
  for (size_t i = 0; i < s.lag.size(); ++i) {
    events::json_object l;
    l.set("partition", s.lag[i].partition)
        .set("position", s.lag[i].position)
        .set("high_watermark", s.lag[i].high_watermark)
        .set("lag", s.lag[i].lag());
    lag += (i ? "," : "") + l.dump();
  }
  o.set_raw("lag", lag + "]");
  std::string singletons = "[";
  for (size_t i = 0; i < s.singletons.size(); ++i) {
    events::json_object one;
    one.set("name", s.singletons[i].name)
        .set("partition", s.singletons[i].partition)
        .set("running_here", s.singletons[i].running_here);
    singletons += (i ? "," : "") + one.dump();
  }
  o.set_raw("singletons", singletons + "]");
  return o.dump();
}

http::response cluster_view(cluster_context& ctx) {
  if (ctx.node == nullptr) {
    events::json_object o;
    o.set("mode", "single").set("ready", true);
    return http::json_response(o.dump());
  }
  const auto self = ctx.node->status();
  auto members = ctx.node->members();
  if (!members) return http::error_response(503, "cluster registry: " + members.error().message);
  const auto now = ctx.clock.now();
  const auto down_after_us =
      std::chrono::duration_cast<std::chrono::microseconds>(ctx.down_after).count();
  std::string nodes = "[";
  bool first = true;
  for (const auto& n : *members) {
    events::json_object o;
    const bool up = n.joined && now - n.heartbeat_at <= down_after_us;
    o.set("node_id", n.node_id)
        .set("api_url", n.api_url)
        .set("status", up ? "up" : "down")
        .set_raw("partitions", int_array(up ? n.partitions : std::vector<int>{}))
        .set("lag", n.lag)
        .set("started_at", events::format_rfc3339(n.started_at))
        .set("last_heartbeat_at", events::format_rfc3339(n.heartbeat_at));
    nodes += (first ? "" : ",") + o.dump();
    first = false;
  }
  events::json_object o;
  o.set("mode", "cluster")
      .set("ready", self.joined)
      .set("partitions", self.partitions)
      .set_raw("this_node", this_node(self))
      .set_raw("nodes", nodes + "]");
  return http::json_response(o.dump());
}

}  // namespace

void add_cluster_routes(http::router& r, cluster_context& ctx) {
  r.add("GET", "/api/v1/cluster", http::role::admin,
        [&ctx](http::request_context&) { return cluster_view(ctx); });
}

}  // namespace certctl::gateways::rest
