#include "tests/gateways/rest/rest_fixture.hpp"

#include <unistd.h>

#include <atomic>

#include <boost/test/unit_test.hpp>

#include "events/time.hpp"
#include "infra/crypto/aead.hpp"
#include "infra/store/memory_store.hpp"
#include "projections/standard_projections.hpp"

namespace certctl::test {
namespace http = gateways::http;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;

std::filesystem::path fresh_dir() {
  static std::atomic<int> n{0};
  return std::filesystem::temp_directory_path() /
         ("certctl-rest-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
}

http::router_options options(projections::projector& p) {
  http::router_options o;
  o.auth_enabled = false;
  o.wait_for_position = [&p](std::int64_t pos, std::chrono::milliseconds max) {
    return p.wait_for_position(pos, max);
  };
  return o;
}

}  // namespace

rest_fixture::rest_fixture()
    : dir(fresh_dir()),
      clock(t0),
      store(store::make_memory_store()),
      runtime(*store, clock),
      db(sql::database::open("memory:").value()),
      projector(*store, db),
      keys(crypto::key_store::open((dir / "keys").string(), crypto::generate_aead_key()).value()),
      issuance(runtime, issuer, keys, 1),
      writes{runtime, issuance, {}},
      reads{*db, projector, clock},
      key_exports{*db, keys, runtime},
      bulk{writes, *db, projector},
      stats{*db, clock} {
  BOOST_REQUIRE(projections::add_standard_projections(projector).ok());
  BOOST_REQUIRE(projector.start().ok());
  router = std::make_unique<http::router>(http::key_store{}, options(projector));
  gateways::rest::add_write_routes(*router, writes);
  gateways::rest::add_read_routes(*router, reads);
  gateways::rest::add_key_export_routes(*router, key_exports);
  gateways::rest::add_bulk_routes(*router, bulk);
  gateways::rest::add_stats_routes(*router, stats);
  BOOST_REQUIRE(!router->registration_error());
}

rest_fixture::~rest_fixture() {
  projector.stop();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

http::response rest_fixture::send(const std::string& method, const std::string& path,
                                  const std::string& body, const http::header_map& headers) {
  http::raw_request r;
  r.method = method;
  const auto q = path.find('?');
  r.path = path.substr(0, q);
  if (q != std::string::npos) {
    std::string rest = path.substr(q + 1);
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      r.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    }
  }
  r.headers = headers;
  if (!body.empty()) r.headers.emplace("Content-Type", "application/json");
  r.body = body;
  r.remote_addr = "127.0.0.1";
  return router->handle(r);
}

http::response rest_fixture::read_after(const http::response& after, const std::string& path) {
  auto pos = header(after, std::string(http::position_header));
  BOOST_REQUIRE_MESSAGE(pos.has_value(), "the write answered no position");
  return send("GET", path, "", {{std::string(http::wait_for_position_header), *pos}});
}

http::response rest_fixture::read(const std::string& path) {
  const std::int64_t h = head();
  if (h == 0) return send("GET", path);
  return send("GET", path, "", {{std::string(http::wait_for_position_header), std::to_string(h)}});
}

http::response rest_fixture::create_certificate(const std::string& id) {
  events::json_object body;
  body.set("id", id)
      .set("name", id)
      .set("common_name", id + ".example.com")
      .set("renewal_policy_id", "rp-1")
      .set("issuer_id", "iss-local")
      .set("owner_id", "o-1")
      .set("team_id", "t-1");
  auto r = send("POST", "/api/v1/certificates", body.dump());
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.status << " " << r.error.value_or(r.body));
  return r;
}

void rest_fixture::issue(const std::string& id) {
  domain::command c;
  c.name = "certificate.record_issued";
  c.entity_id = id;
  c.principal = "system:test";
  c.body.set("job_id", "job-issue-" + id)
      .set("serial_number", "0A" + std::to_string(head()))
      .set("not_before", events::format_rfc3339(clock.now() - 86400LL * 1'000'000))
      .set("not_after", events::format_rfc3339(clock.now() + 10 * 86400LL * 1'000'000))
      .set("fingerprint_sha256", std::string(64, 'a'))
      .set("pem_chain", "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n");
  auto r = runtime.execute("certificate", c);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
}

std::int64_t rest_fixture::head() const {
  auto h = store->head_position();
  BOOST_REQUIRE(h.ok());
  return *h;
}

std::optional<std::string> rest_fixture::header(const http::response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return std::nullopt;
}

events::json_object rest_fixture::json(const http::response& r) {
  std::string why;
  auto o = events::json_object::parse(r.body, &why);
  BOOST_REQUIRE_MESSAGE(o.has_value(), "not a JSON object (" << why << "): " << r.body);
  return *o;
}

}  // namespace certctl::test
