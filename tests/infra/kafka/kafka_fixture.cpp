#include "tests/infra/kafka/kafka_fixture.hpp"

#include <boost/test/unit_test.hpp>
#include <set>

#include "events/event_codec.hpp"
#include "events/time.hpp"
#include "infra/crypto/random.hpp"
#include "infra/kafka/cloudevents.hpp"

namespace certctl::testing {

temp_dir::temp_dir()
    : path(std::filesystem::temp_directory_path() / ("certctl-kafka-" + crypto::random_hex(6))) {
  std::filesystem::create_directories(path);
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void append_script(store::event_store& s, int streams, int count) {
  for (int i = 0; i < count; ++i) {
    const std::string stream = "certificate-c" + std::to_string(i % streams);
    auto version = s.read_stream(stream);
    BOOST_REQUIRE(version);
    store::append_request req;
    req.stream_id = stream;
    req.expected = version->empty()
                       ? store::expected_version::no_stream()
                       : store::expected_version::exact(version->back().stream_version);
    events::proposed_event e;
    e.type = i % streams == i ? "certificate.created" : "certificate.renewal_scheduled";
    e.schema_version = 1 + i % 2;
    e.occurred_at = 1'790'000'000'000'000 + i;
    e.principal = "system:test";
    e.payload = "{\"n\":" + std::to_string(i) + "}";
    req.events.push_back(std::move(e));
    BOOST_REQUIRE_MESSAGE(s.append(std::move(req)), "append " << i);
  }
}

std::vector<events::recorded_event> all_events(store::event_store& s) {
  auto r = s.read_all(1, 1'000'000);
  BOOST_REQUIRE(r);
  return *r;
}

kafka::relay_options test_relay_options(const std::string& bootstrap, const std::string& topic) {
  kafka::relay_options o;
  o.bootstrap_servers = bootstrap;
  o.topic = topic;
  o.source = "certctl://test";
  o.log_to_stderr = false;
  o.checkpoint_interval = std::chrono::milliseconds(20);
  o.properties = {{"reconnect.backoff.max.ms", "500"}};
  return o;
}

std::vector<kafka::consumed_record> read_until_complete(
    const std::string& bootstrap, const std::string& topic,
    const std::vector<events::recorded_event>& expected, std::chrono::milliseconds timeout) {
  auto reader = kafka::topic_reader::open(bootstrap, topic, {{"reconnect.backoff.max.ms", "500"}});
  BOOST_REQUIRE_MESSAGE(reader, (reader ? "" : reader.error().message));
  std::set<std::string> missing;
  for (const auto& e : expected) missing.insert(e.event_id);
  std::vector<kafka::consumed_record> got;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto linger_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(deadline, linger_until)) {
    auto r = (*reader)->poll(std::chrono::milliseconds(100));
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    if (!r->has_value()) continue;
    if (auto id = (*r)->header("ce_id")) missing.erase(*id);
    got.push_back(std::move(**r));
    if (missing.empty() && linger_until == std::chrono::steady_clock::time_point::max())
      linger_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  }
  BOOST_CHECK_MESSAGE(missing.empty(), missing.size() << " events never arrived");
  return got;
}

size_t check_published(const std::vector<kafka::consumed_record>& got,
                       const std::vector<events::recorded_event>& expected,
                       const std::string& source) {
  std::map<std::string, const events::recorded_event*> by_id;
  for (const auto& e : expected) by_id[e.event_id] = &e;
  std::map<std::string, const kafka::consumed_record*> first;
  std::map<std::string, std::int64_t> last_version;
  std::map<std::string, std::int32_t> partition_of_key;
  size_t duplicates = 0;
  for (const auto& r : got) {
    const auto id = r.header("ce_id");
    BOOST_REQUIRE(id);
    const auto it = by_id.find(*id);
    BOOST_REQUIRE_MESSAGE(it != by_id.end(), "unexpected event id " << *id);
    const auto& e = *it->second;
    if (auto [p, fresh] = partition_of_key.emplace(r.key, r.partition); !fresh)
      BOOST_CHECK_EQUAL(p->second, r.partition);
    if (auto f = first.find(*id); f != first.end()) {
      ++duplicates;
      BOOST_CHECK(f->second->value == r.value && f->second->headers == r.headers);
      continue;
    }
    first[*id] = &r;
    BOOST_CHECK_EQUAL(r.key, e.stream_id);
    BOOST_CHECK_EQUAL(r.value, events::to_json(e));
    const kafka::header_list want = {
        {"ce_specversion", "1.0"},
        {"ce_id", e.event_id},
        {"ce_source", source},
        {"ce_type", e.type},
        {"ce_subject", kafka::entity_id_of(e.stream_id)},
        {"ce_time", events::format_rfc3339(e.occurred_at)},
        {"content-type", "application/json"},
        {"ce_certctlposition", std::to_string(e.position)},
        {"ce_certctlschemaversion", std::to_string(e.schema_version)},
    };
    BOOST_CHECK(r.headers == want);
    auto& last = last_version[e.stream_id];
    BOOST_CHECK_MESSAGE(e.stream_version == last + 1,
                        e.stream_id << " version " << e.stream_version << " after " << last);
    last = e.stream_version;
  }
  BOOST_CHECK_EQUAL(first.size(), expected.size());
  return duplicates;
}

}  // namespace certctl::testing
