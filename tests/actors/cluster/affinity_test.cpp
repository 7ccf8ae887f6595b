// Workflow affinity (docs/cluster.md "Affinity"): a certificate's jobs are placed with the
// certificate, and a workflow travels as one command to the owner of its root entity, where
// its steps run as local commands. The transport is left out: the router below hands records
// to the "owner" runtime through the command codec, as cluster_node does.
#include <boost/test/unit_test.hpp>

#include <future>
#include <string>

#include "actors/cluster/command_codec.hpp"
#include "actors/cluster/partitioning.hpp"
#include "actors/runtime/entity_runtime.hpp"
#include "domain/rules.hpp"
#include "infra/store/memory_store.hpp"

using namespace certctl;

namespace {

/// Owns the streams whose affinity key is not `foreign`; the rest go, as records, to `owner`.
struct affinity_router : actors::command_router {
  affinity_router(actors::entity_runtime& o, std::string f) : owner(o), foreign(std::move(f)) {}
  bool is_local(const std::string& stream) const override {
    return domain::affinity_key(stream) != foreign;
  }
  void forward(const std::string& kind, domain::command cmd,
               actors::command_callback done) override {
    if (cmd.command_id.empty()) cmd.command_id = "fwd-" + std::to_string(forwarded.size());
    forwarded.push_back(kind + "/" + cmd.entity_id);
    auto decoded = cluster::decode_command(cluster::encode_command(kind, cmd));
    BOOST_REQUIRE(decoded.ok());
    owner.submit_local(decoded->kind, std::move(decoded->cmd), [done](actors::command_result r) {
      done(cluster::decode_result(cluster::encode_result(r)));
    });
  }
  actors::entity_runtime& owner;
  std::string foreign;
  std::vector<std::string> forwarded;
};

domain::command make(const std::string& name, const std::string& id, const std::string& body) {
  domain::command c;
  c.name = name;
  c.entity_id = id;
  c.body = events::json_object::parse(body).value();
  c.principal = "apikey:test";
  return c;
}

/// A two-step workflow on `rt`: create team <id>, then rename it; answers the last outcome.
void add_team_workflow(actors::entity_runtime& rt, std::vector<std::string>* ran_on,
                       const std::string& node) {
  rt.add_workflow("team.setup", [&rt, ran_on, node](const domain::command& wf) {
    ran_on->push_back(node);
    const std::string id = wf.body.str("id");
    auto created = rt.execute("team", make("team.create", id, R"({"name":"First"})"));
    if (!created) return created;
    return rt.execute("team", make("team.update", id, R"({"name":"Second"})"));
  });
}

domain::command team_workflow(const std::string& id) {
  domain::command wf =
      make("team.setup", actors::workflow_entity_id("team-" + id), R"({"id":")" + id + R"("})");
  return wf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(affinity)

BOOST_AUTO_TEST_CASE(a_certificates_jobs_share_its_partition) {
  const std::string cert_stream = domain::stream_id("certificate", "mc-web-1");
  const std::string job_id = domain::affine_id("job-1a2b3c4d", cert_stream);
  BOOST_TEST(job_id == "job-1a2b3c4d__certificate-mc-web-1");
  BOOST_TEST(domain::is_valid_id(job_id));
  const std::string job_stream = domain::stream_id("job", job_id);
  BOOST_TEST(domain::affinity_key(job_stream) == cert_stream);
  BOOST_TEST(domain::affinity_key(cert_stream) == cert_stream);
  BOOST_TEST(domain::affinity_key("job-x__") == "job-x__");  // an empty key is no key
  for (int partitions : {1, 2, 3, 12, 64})
    BOOST_TEST(cluster::partition_of(domain::affinity_key(job_stream), partitions) ==
               cluster::partition_of(cert_stream, partitions));
  // Too long to carry the root: a plain id, placed by itself.
  const std::string long_root = "certificate-" + std::string(120, 'a');
  BOOST_TEST(domain::affine_id("job-1a2b3c4d", long_root) == "job-1a2b3c4d");
  // The workflow command itself is placed with its root.
  BOOST_TEST(domain::affinity_key(domain::stream_id(std::string(actors::workflow_kind),
                                                    actors::workflow_entity_id(cert_stream))) ==
             cert_stream);
}

BOOST_AUTO_TEST_CASE(a_workflow_is_forwarded_once_and_its_steps_run_at_the_owner) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime owner(*store, clock), here(*store, clock);
  std::vector<std::string> ran_on;
  add_team_workflow(owner, &ran_on, "owner");
  add_team_workflow(here, &ran_on, "here");
  affinity_router router(owner, "team-t-far");
  here.set_router(&router);

  auto r = here.execute(std::string(actors::workflow_kind), team_workflow("t-far"));
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->view.str("name") == "Second");
  BOOST_TEST(r->stream_version == 2);
  BOOST_TEST(router.forwarded == std::vector<std::string>{"workflow/wf__team-t-far"});
  BOOST_TEST(ran_on == std::vector<std::string>{"owner"});
  BOOST_TEST(here.workflows_started("team.setup") == 1u);
  BOOST_TEST(owner.workflows_started("team.setup") == 0u);  // counted where it started

  // A root this node owns: the workflow runs here, nothing is forwarded.
  auto local = here.execute(std::string(actors::workflow_kind), team_workflow("t-near"));
  BOOST_REQUIRE(local.ok());
  BOOST_TEST(router.forwarded.size() == 1u);
  BOOST_TEST(ran_on.back() == "here");
  here.set_router(nullptr);
}

BOOST_AUTO_TEST_CASE(minted_ids_are_owned_by_the_minting_node) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime here(*store, clock);
  int made = 0;
  auto candidate = [&made] { return "mc-" + std::to_string(made++); };

  // A single node takes the first candidate.
  BOOST_TEST(here.mint_local_id("certificate", candidate) == "mc-0");

  // This node owns the streams on one partition of three: every minted id lands there.
  struct one_partition_router : actors::command_router {
    bool is_local(const std::string& stream) const override {
      return cluster::partition_of(domain::affinity_key(stream), 3) == 1;
    }
    void forward(const std::string&, domain::command, actors::command_callback) override {}
  } third;
  here.set_router(&third);
  for (int i = 0; i < 50; ++i) {
    const auto id = here.mint_local_id("certificate", candidate);
    BOOST_TEST(third.is_local(domain::stream_id("certificate", id)), id);
  }

  // Owning nothing yet (not joined): a bounded number of tries, then any id.
  struct none_router : actors::command_router {
    bool is_local(const std::string&) const override { return false; }
    void forward(const std::string&, domain::command, actors::command_callback) override {}
  } none;
  here.set_router(&none);
  made = 0;
  BOOST_TEST(!here.mint_local_id("certificate", candidate).empty());
  BOOST_TEST(made == 32);
  here.set_router(nullptr);
}

BOOST_AUTO_TEST_CASE(workflows_run_asynchronously_and_unknown_ones_are_unavailable) {
  auto store = store::make_memory_store();
  infra::system_clock clock;
  actors::entity_runtime rt(*store, clock);
  std::vector<std::string> ran_on;
  add_team_workflow(rt, &ran_on, "rt");
  std::promise<actors::command_result> answered;
  rt.submit(std::string(actors::workflow_kind), team_workflow("t-async"),
            [&](actors::command_result r) { answered.set_value(std::move(r)); });
  auto r = answered.get_future().get();
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->view.str("name") == "Second");

  auto unknown =
      rt.execute(std::string(actors::workflow_kind), make("no.such.workflow", "wf__team-x", "{}"));
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == domain::domain_errc::unavailable);
}

BOOST_AUTO_TEST_SUITE_END()
