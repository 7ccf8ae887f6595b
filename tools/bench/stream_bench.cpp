#include "tools/bench/stream_bench.hpp"

#include <atomic>
#include <cstdio>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "events/time.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/random.hpp"
#include "infra/kafka/relay.hpp"
#include "infra/kafka/topic_reader.hpp"
#include "tools/audit/cli.hpp"
#include "tools/bench/bench_store.hpp"
#include "tools/bench/latency.hpp"

namespace certctl::bench {
namespace {

using steady = std::chrono::steady_clock;

/// What the consumer thread saw of this run (records of earlier runs carry another source).
struct consumed {
  std::mutex mu;
  std::vector<double> latencies_us;
  std::set<std::string> ids;
  std::int64_t duplicates = 0;
  std::string error;
};

/// Reads until `stop`; events at positions <= `warmup` only prove the pipeline is up.
void consume(kafka::topic_reader& reader, const std::string& source, std::int64_t warmup,
             std::atomic<bool>& stop, consumed& out) {
  const infra::system_clock clock;
  while (!stop.load()) {
    auto r = reader.poll(std::chrono::milliseconds(50));
    const auto now = clock.now();
    std::lock_guard<std::mutex> lock(out.mu);
    if (!r) {
      out.error = r.error().message;
      return;
    }
    if (!r->has_value() || (*r)->header("ce_source") != source) continue;
    const auto id = (*r)->header("ce_id").value_or("");
    if (!out.ids.insert(id).second) {
      ++out.duplicates;
      continue;
    }
    const auto pos = std::stoll((*r)->header("ce_certctlposition").value_or("0"));
    const auto at = events::parse_rfc3339((*r)->header("ce_time").value_or(""));
    if (pos > warmup && at) out.latencies_us.push_back(static_cast<double>(now - *at));
  }
}

size_t seen(consumed& c) {
  std::lock_guard<std::mutex> lock(c.mu);
  return c.ids.size();
}

}  // namespace

int run_stream(const std::vector<std::string>& args) {
  cli::arg_parser parser(
      "certctl-bench stream --bootstrap SERVERS --topic T --count N [--store URL] [--rate R]",
      "Appends N events at R events/s to a fresh log with the Kafka relay running; a consumer\n"
      "reads the topic and measures consume time minus occurred_at (stamped just before each\n"
      "append). The topic must exist (certctl-mock-kafka --topic T creates it). The last line\n"
      "is stream_p99_ms=<number>.");
  parser.option("bootstrap", "SERVERS", "Kafka bootstrap servers (host:port,...)", true)
      .option("topic", "T", "topic the relay publishes to", true)
      .option("count", "N", "events to append", true)
      .option("store", "URL", "memory: (default) or sqlite:///abs/file.db")
      .option("rate", "R", "appends per second (default 1000)")
      .option("streams", "S", "streams the events spread over (default 32)")
      .option("property", "K=V", "librdkafka property for the relay's producer", false, true)
      .flag("fresh", "delete an existing SQLite file first");
  int code = 0;
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto count = parsed->integer("count", 1);
  const auto rate = parsed->integer("rate", 1000);
  const auto streams = parsed->integer("streams", 32);
  if (!count || !rate || !streams) return cli::exit_usage;
  const std::string url = parsed->get("store").value_or("memory:");
  if (url.rfind("postgres", 0) == 0) {
    std::cerr << "error: --store: use memory: or sqlite:// (the relay checkpoint needs the "
                 "log's own database, which the PostgreSQL bench schema does not expose yet)\n";
    return cli::exit_usage;
  }
  kafka::relay_options ropts;
  ropts.bootstrap_servers = *parsed->get("bootstrap");
  ropts.topic = *parsed->get("topic");
  ropts.source = "certctl://bench-" + crypto::random_hex(6);  // tells this run's records apart
  ropts.name = "bench";
  for (const auto& p : parsed->all("property")) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) {
      std::cerr << "error: flag --property: \"" << p << "\" is not K=V\n";
      return cli::exit_usage;
    }
    ropts.properties.push_back({p.substr(0, eq), p.substr(eq + 1)});
  }

  fresh_store_request req;
  req.url = url;
  req.fresh = parsed->has("fresh");
  auto opened = open_fresh_store(req);
  if (!opened) {
    std::cerr << "error: " << opened.error().message << "\n";
    return cli::exit_usage;
  }
  auto& s = **opened;
  auto db = sql::database::open(url);
  if (!db) {
    std::cerr << "error: " << db.error().message << "\n";
    return cli::exit_usage;
  }
  auto reader = kafka::topic_reader::open(ropts.bootstrap_servers, ropts.topic);
  if (!reader) {
    std::cerr << "error: " << reader.error().message << "\n";
    return cli::exit_usage;
  }
  auto relay = kafka::relay::create(s, *db, ropts);
  if (!relay) {
    std::cerr << "error: " << relay.error().message << "\n";
    return cli::exit_usage;
  }
  if (auto started = (*relay)->start(); !started) {
    std::cerr << "error: " << started.error().message << "\n";
    return cli::exit_usage;
  }

  const infra::system_clock clock;
  auto append_one = [&](std::int64_t i, store::event_store::append_callback done) {
    store::append_request a;
    a.stream_id = "certificate-stream-" + std::to_string(i % *streams);
    events::proposed_event e;
    e.type = "certificate.renewal_scheduled";
    e.principal = "system:bench";
    e.payload = "{\"sequence\":" + std::to_string(i) +
                ",\"not_after\":\"2027-01-01T00:00:00Z\",\"reason\":\"renewal window open\"}";
    e.occurred_at = clock.now();
    a.events.push_back(std::move(e));
    s.append_async(std::move(a), std::move(done));
  };

  consumed got;
  std::atomic<bool> stop{false};
  // Warm-up: one event through the whole pipeline (producer id, connections, fetch loop).
  std::promise<std::int64_t> warm;
  append_one(-1, [&](store::store_result<store::append_result> r) {
    warm.set_value(r ? r->last_position : -1);
  });
  const std::int64_t warmup = warm.get_future().get();
  if (warmup < 0) {
    std::cerr << "error: the warm-up append failed\n";
    return 1;
  }
  std::thread consumer(consume, std::ref(**reader), ropts.source, warmup, std::ref(stop),
                       std::ref(got));
  for (int i = 0; i < 300 && seen(got) < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (seen(got) < 1) std::cerr << "warning: the warm-up event did not arrive within 30 s\n";

  std::atomic<std::int64_t> failed{0};
  const auto period = std::chrono::nanoseconds(1'000'000'000 / *rate);
  const auto start = steady::now();
  for (std::int64_t i = 0; i < *count; ++i) {
    std::this_thread::sleep_until(start + period * i);
    append_one(i, [&failed](store::store_result<store::append_result> r) {
      if (!r) failed.fetch_add(1);
    });
  }
  const double append_seconds = std::chrono::duration<double>(steady::now() - start).count();
  const auto want = static_cast<size_t>(*count + 1);
  const auto deadline = steady::now() + std::chrono::seconds(60);
  while (seen(got) < want - static_cast<size_t>(failed.load()) && steady::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop.store(true);
  consumer.join();
  (*relay)->stop();

  std::lock_guard<std::mutex> lock(got.mu);
  const auto missing =
      static_cast<std::int64_t>(want) - failed.load() - static_cast<std::int64_t>(got.ids.size());
  const auto summary = summarize(got.latencies_us);
  std::cout << "backend=" << s.backend() << " events=" << *count << " rate=" << *rate
            << " streams=" << *streams << " topic=" << ropts.topic
            << " partitions=" << (*reader)->partition_count() << "\n";
  char line[128];
  std::snprintf(line, sizeof line, "append_seconds=%.3f", append_seconds);
  std::cout << line << "\n";
  std::cout << "commit-to-consume latency " << to_string(summary) << "\n";
  std::cout << "consumed=" << got.ids.size() - 1 << " missing=" << missing
            << " duplicates=" << got.duplicates << " failed_appends=" << failed.load() << "\n";
  if (!got.error.empty()) std::cerr << "error: consumer: " << got.error << "\n";
  std::snprintf(line, sizeof line, "stream_p50_ms=%.3f", summary.p50_us / 1000.0);
  std::cout << line << "\n";
  std::snprintf(line, sizeof line, "stream_p99_ms=%.3f", summary.p99_us / 1000.0);
  std::cout << line << std::endl;
  return missing > 0 || failed.load() > 0 || !got.error.empty() ? 1 : 0;
}

}  // namespace certctl::bench
