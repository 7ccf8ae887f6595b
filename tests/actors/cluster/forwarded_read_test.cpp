// A read for an entity owned by another node travels like any command: encoded for the
// commands topic, executed by the owner's runtime, answered through the reply codec. The
// transport (Kafka) is left out; the router below hands records over in-process exactly as
// cluster_node does (including the command id it gives every forwarded command).
#include <boost/test/unit_test.hpp>

#include <future>
#include <string>

#include "actors/cluster/command_codec.hpp"
#include "actors/runtime/entity_runtime.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

/// This node owns nothing; every command goes, as a record, to `owner`.
struct codec_router : actors::command_router {
  explicit codec_router(actors::entity_runtime& o) : owner(o) {}
  bool is_local(const std::string&) const override { return false; }
  void forward(const std::string& kind, domain::command cmd,
               actors::command_callback done) override {
    if (cmd.command_id.empty()) cmd.command_id = "fwd-" + std::to_string(++sent);
    records.push_back(cluster::encode_command(kind, cmd));
    // The owner's side (cluster_node::impl::on_command): decode, run here, encode the answer.
    auto decoded = cluster::decode_command(records.back());
    if (!decoded) {
      done(cluster::decode_result(cluster::encode_result(
          domain::domain_error{domain::domain_errc::invalid, decoded.error()})));
      return;
    }
    owner.submit_local(decoded->kind, std::move(decoded->cmd), [done](actors::command_result r) {
      done(cluster::decode_result(cluster::encode_result(r)));
    });
  }
  actors::entity_runtime& owner;
  std::vector<std::string> records;
  int sent = 0;
};

domain::command make(const std::string& name, const std::string& id, const std::string& body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = events::json_object::parse(body).value();
  c.principal = "apikey:test";
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(forwarded_read)

BOOST_AUTO_TEST_CASE(a_read_command_survives_the_codec_round_trip) {
  domain::command read;
  read.name = std::string(actors::read_command_name);
  read.entity_id = "mc-1";
  auto decoded = cluster::decode_command(cluster::encode_command("certificate", read));
  BOOST_REQUIRE(decoded.ok());
  BOOST_TEST(decoded->kind == "certificate");
  BOOST_TEST(decoded->cmd.name == std::string(actors::read_command_name));
  BOOST_TEST(decoded->cmd.entity_id == "mc-1");
}

BOOST_AUTO_TEST_CASE(a_read_for_an_entity_owned_elsewhere_is_answered_by_the_owner) {
  auto store = store::make_memory_store();
  infra::manual_clock clock(1790000000000000);
  actors::entity_runtime owner(*store, clock);
  actors::entity_runtime here(*store, clock);
  codec_router router(owner);
  here.set_router(&router);

  auto cert = make("certificate.create", "mc-1",
                   R"({"name":"web","common_name":"web.example.com","renewal_policy_id":"rp-1",)"
                   R"("issuer_id":"iss-local","owner_id":"o-1","team_id":"t-1"})");
  BOOST_REQUIRE(here.execute("certificate", cert).ok());
  BOOST_REQUIRE(here.execute("certificate", make("certificate.archive", "mc-1", "{}")).ok());
  BOOST_TEST(*store->head_position() == 2);

  auto r = here.read("certificate", "mc-1");
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("status") == "Archived");
  BOOST_TEST(r->stream_version == 2);
  BOOST_REQUIRE(router.records.size() == 3u);
  // The read carried a command id like every forwarded command; the owner recorded nothing.
  BOOST_TEST(!store->find_command("fwd-3")->has_value());
  BOOST_TEST(*store->head_position() == 2);

  std::promise<actors::command_result> missing;
  here.read_async("certificate", "mc-2",
                  [&](actors::command_result res) { missing.set_value(std::move(res)); });
  auto m = missing.get_future().get();
  BOOST_REQUIRE(!m.ok());
  BOOST_TEST(m.error().code == domain::domain_errc::not_found);
  BOOST_TEST(*store->head_position() == 2);
  here.set_router(nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
