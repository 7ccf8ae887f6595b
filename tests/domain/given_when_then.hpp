#pragma once
/// Aggregate tests as specifications: given these events (or accepted commands), when this
/// command, then these events or this error.

#include <boost/test/unit_test.hpp>

#include "domain/aggregate.hpp"

namespace certctl::testing {

class scenario {
 public:
  scenario(const std::string& kind, const std::string& id)
      : agg_(domain::make_aggregate(kind, id)), id_(id) {
    BOOST_REQUIRE(agg_ != nullptr);
  }

  result<domain::decision, domain::domain_error> when(const std::string& name,
                                                      const std::string& body) {
    domain::command c;
    c.name = name;
    c.entity_id = id_;
    c.body = events::json_object::parse(body).value();
    c.now = now_;
    c.principal = "test";
    return agg_->decide(c);
  }

  void given(const domain::decision& d) {
    for (const auto& de : d) {
      events::recorded_event e;
      e.stream_version = ++version_;
      e.position = version_;
      e.type = de.type;
      e.payload = de.payload.dump();
      e.occurred_at = now_;
      agg_->apply(e);
    }
  }

  /// Runs a command that must be accepted and applies its events.
  void given_command(const std::string& name, const std::string& body) {
    auto d = when(name, body);
    BOOST_REQUIRE_MESSAGE(d.ok(), name + " was rejected: " + (d.ok() ? "" : d.error().message));
    given(*d);
  }

  events::json_object view() const { return agg_->view(); }
  domain::aggregate& agg() { return *agg_; }
  void set_now(events::timestamp_us t) { now_ = t; }

 private:
  std::unique_ptr<domain::aggregate> agg_;
  std::string id_;
  std::int64_t version_ = 0;
  events::timestamp_us now_ = 1790000000000000;
};

}  // namespace certctl::testing
