#include "tests/projections/test_projections.hpp"

#include <boost/test/unit_test.hpp>

namespace certctl::testing {

using namespace projections;

projection_env::projection_env(const std::string& backend) : log(backend) {
  auto opened = sql::database::open(backend == "memory" ? std::string("memory:") : log.url());
  if (!opened) BOOST_FAIL("cannot open the read database: " + opened.error().message);
  db = std::move(opened).value();
}

std::int64_t projection_env::append(const std::string& stream, const std::string& type,
                                    const std::string& payload, const std::string& principal,
                                    events::timestamp_us occurred_at) {
  store::append_request r;
  r.stream_id = stream;
  r.events.push_back(make_event(type, payload));
  r.events[0].principal = principal;
  r.events[0].occurred_at = occurred_at;
  r.events[0].source_address = "192.0.2.7";
  r.events[0].correlation_id = "req-" + stream;
  auto appended = log.store().append(r);
  if (!appended) BOOST_FAIL("append failed: " + appended.error().message);
  return appended->last_position;
}

rows projection_env::dump(const std::string& table, int columns) {
  std::string order;
  for (int i = 1; i <= columns; ++i) order += (i > 1 ? ", " : "") + std::to_string(i);
  auto r = db->query("SELECT * FROM " + table + " ORDER BY " + order);
  if (!r) BOOST_FAIL("dump of " + table + " failed: " + r.error().message);
  return std::move(r).value();
}

db_result<done> counting_projection::create_schema(transaction& tx) {
  ++creates;
  return tx.exec_script("CREATE TABLE " + name_ +
                        " (stream_id TEXT PRIMARY KEY, n BIGINT NOT NULL, "
                        "last_position BIGINT NOT NULL)");
}

db_result<done> counting_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS " + name_);
}

apply_result counting_projection::apply(transaction& tx, const events::recorded_event& e) {
  auto r = tx.exec("INSERT INTO " + name_ +
                       " (stream_id, n, last_position) VALUES (?, 1, ?) ON CONFLICT (stream_id) "
                       "DO UPDATE SET n = " +
                       name_ + ".n + 1, last_position = excluded.last_position",
                   {e.stream_id, e.position});
  if (!r) return apply_error::from(r.error());
  // Both faults strike after a write, so the tests see whether that write is undone.
  if (e.payload.find("poison") != std::string::npos)
    return apply_error{"malformed payload: poison", false};
  if (e.position == transient_at.load()) return apply_error{"database went away", true};
  ++applied;
  return done{};
}

}  // namespace certctl::testing
