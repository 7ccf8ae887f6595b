#pragma once
/// A memory event store, the entity runtime and the real read models behind the server's
/// due_work_source, all on a manual clock. Nothing runs by itself: a test moves the clock,
/// calls project() when the read models should catch up, and ticks loops by hand, so every
/// expiry window is crossed without sleeping. Leaving project() out between two ticks is how
/// a test simulates a lagging read model.

#include <boost/test/unit_test.hpp>

#include <memory>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "events/time.hpp"
#include "infra/clock.hpp"
#include "infra/store/memory_store.hpp"
#include "projections/entity_projections.hpp"
#include "projections/entity_queries.hpp"
#include "projections/projector.hpp"
#include "tools/server/due_work_adapter.hpp"

namespace certctl::test {

inline constexpr events::timestamp_us t0 = 1790000000000000;
inline constexpr std::int64_t us_per_second = 1000000;
inline constexpr std::int64_t us_per_minute = 60 * us_per_second;
inline constexpr std::int64_t us_per_hour = 60 * us_per_minute;
inline constexpr std::int64_t us_per_day = 24 * us_per_hour;

struct scheduler_fixture {
  std::unique_ptr<store::event_store> store = store::make_memory_store();
  infra::manual_clock clock{t0};
  actors::entity_runtime runtime{*store, clock};
  std::shared_ptr<sql::database> db = sql::database::open("memory:").value();
  projections::projector projector{*store, db};
  server::due_work_adapter source{db};

  scheduler_fixture() { BOOST_REQUIRE(projections::register_entity_projections(projector).ok()); }

  /// Brings the read models up to the log's head.
  void project() { BOOST_REQUIRE(projector.catch_up().ok()); }

  /// Moves the clock to `t` and returns it (the time loops are ticked with).
  events::timestamp_us at(events::timestamp_us t) {
    clock.set(t);
    return t;
  }

  actors::command_result exec(const std::string& kind, const std::string& name,
                              const std::string& id, const std::string& body = "{}") {
    domain::command c;
    c.name = name;
    c.entity_id = id;
    c.body = events::json_object::parse(body).value();
    c.principal = "apikey:test";
    return runtime.execute(kind, std::move(c));
  }

  void policy(const std::string& id, const std::string& fields) {
    BOOST_REQUIRE(exec("renewal_policy", "renewal_policy.create", id,
                       R"({"name":")" + id + "\"" + (fields.empty() ? "" : "," + fields) + "}")
                      .ok());
  }

  /// A certificate issued now and valid until `not_after`: Active.
  void active_certificate(const std::string& id, const std::string& policy_id,
                          events::timestamp_us not_after, const std::string& profile_id = "") {
    std::string body = R"({"name":")" + id + R"(","common_name":")" + id +
                       R"(.example.com","renewal_policy_id":")" + policy_id +
                       R"(","issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1")";
    if (!profile_id.empty()) body += R"(,"certificate_profile_id":")" + profile_id + "\"";
    BOOST_REQUIRE(exec("certificate", "certificate.create", id, body + "}").ok());
    events::json_object issued;
    issued.set("job_id", "job-initial")
        .set("serial_number", "01")
        .set("not_before", events::format_rfc3339(clock.now()))
        .set("not_after", events::format_rfc3339(not_after))
        .set("fingerprint_sha256", "00")
        .set("pem_chain", "-----BEGIN CERTIFICATE-----");
    BOOST_REQUIRE(exec("certificate", "certificate.record_issued", id, issued.dump()).ok());
  }

  /// Every event in the log, oldest first.
  std::vector<events::recorded_event> all_events() {
    auto evs = store->read_all(1, 100000);
    BOOST_REQUIRE(evs.ok());
    return *evs;
  }

  /// Events of `type` in the whole log.
  std::vector<events::recorded_event> events_of(const std::string& type) {
    std::vector<events::recorded_event> out;
    for (auto& e : all_events())
      if (e.type == type) out.push_back(e);
    return out;
  }

  /// Event types of one stream, in order.
  std::vector<std::string> stream_types(const std::string& stream) {
    auto evs = store->read_stream(stream);
    BOOST_REQUIRE(evs.ok());
    std::vector<std::string> out;
    for (auto& e : *evs) out.push_back(e.type);
    return out;
  }

  /// A job as the read model shows it (projects first).
  events::json_object job(const std::string& id) {
    project();
    auto doc = projections::get_job(*db, id);
    BOOST_REQUIRE(doc.ok() && doc->has_value());
    return events::json_object::parse(**doc).value();
  }

  /// The entity's current view, read from the entity (any state, nothing appended).
  events::json_object view(const std::string& kind, const std::string& id) {
    auto r = runtime.read(kind, id);
    BOOST_REQUIRE(r.ok());
    return r->view;
  }
};

inline events::json_object payload_of(const events::recorded_event& e) {
  return events::json_object::parse(e.payload).value();
}

}  // namespace certctl::test
