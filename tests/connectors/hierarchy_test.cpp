// Tree mode: root -> int1 -> int2 -> leaf signed by ca_hierarchy, checked by `openssl verify`
// with the root as the only trust anchor, plus the constraint and status rules.
#define BOOST_TEST_MODULE connectors_hierarchy
#include <boost/test/unit_test.hpp>
#include <map>
#include <mutex>

#include "connectors/issuers/local/hierarchy.hpp"
#include "connectors/issuers/local/local_ca_connector.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/key_store.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using namespace certctl::connectors;
using certctl::test::run;
using certctl::test::temp_dir;
using certctl::test::write_text;

namespace {

/// The local CA, its hierarchy, and an in-memory stand-in for the intermediate entities.
struct fixture {
  temp_dir tmp;
  std::unique_ptr<local_ca> ca;
  std::unique_ptr<crypto::key_store> keys;
  std::map<std::string, ca_record> records;
  std::mutex mutex;
  std::unique_ptr<ca_hierarchy> hierarchy;

  fixture() {
    local_ca_config c;
    c.data_dir = tmp.file("ca");
    c.pki_base_url = "http://127.0.0.1:8080";
    auto opened = open_local_ca(c);
    CERTCTL_REQUIRE_OK(opened);
    ca = std::move(opened).value();
    auto root = load_root_material(c);
    BOOST_REQUIRE_MESSAGE(root.ok(), (root.ok() ? std::string() : root.error().message));
    BOOST_TEST(root.value().cert_pem == ca->ca_certificate_pem());
    auto master = crypto::load_or_create_master_key(tmp.file("master.key"));
    CERTCTL_REQUIRE_OK(master);
    auto store = crypto::key_store::open(tmp.file("keys"), master.value());
    CERTCTL_REQUIRE_OK(store);
    keys = std::make_unique<crypto::key_store>(std::move(store).value());
    auto h = ca_hierarchy::create(std::move(root).value(), *keys,
                                  [this](const std::string& id) -> std::optional<ca_record> {
                                    std::lock_guard<std::mutex> lock(mutex);
                                    auto it = records.find(id);
                                    if (it == records.end()) return std::nullopt;
                                    return it->second;
                                  },
                                  {"http://127.0.0.1:8080", nullptr});
    BOOST_REQUIRE(h.ok());
    hierarchy = std::move(h).value();
  }

  /// Signs a child CA and records it as the entity would.
  hierarchy_result<child_ca> add(const std::string& id, const std::string& parent,
                                 crypto::child_constraints_request constraints = {}) {
    child_ca_request r;
    r.id = id;
    r.parent_id = parent;
    r.subject.common_name = "CA " + id;
    r.ttl_us = 365LL * 86400 * 1'000'000;
    r.constraints = std::move(constraints);
    auto made = hierarchy->sign_child(r);
    if (made) {
      std::lock_guard<std::mutex> lock(mutex);
      records[id] = ca_record{id, parent, "active", made->cert_pem, made->key_id, ""};
    }
    return made;
  }

  issuance_request leaf_request(const std::string& name) {
    auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    auto csr = crypto::build_csr({key->pem, name, {{name}, {}, {}, {}}});
    CERTCTL_REQUIRE_OK(csr);
    issuance_request r;
    r.csr_pem = csr.value();
    return r;
  }
};

std::string message_of(const hierarchy_result<child_ca>& r) {
  BOOST_REQUIRE(!r.ok());
  return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ca_hierarchy_tree_mode)

BOOST_AUTO_TEST_CASE(a_three_level_chain_verifies_with_the_root_as_only_anchor) {
  fixture f;
  auto int1 = f.add("ica-1", "iss-local", {2, {"example.com"}, {}});
  BOOST_REQUIRE_MESSAGE(int1.ok(), (int1.ok() ? std::string() : int1.error().message));
  BOOST_TEST(int1->depth == 1);
  BOOST_TEST(int1->constraints.path_len == 2);
  auto int2 = f.add("ica-2", "ica-1", {std::nullopt, {"shop.example.com"}, {}});
  BOOST_REQUIRE_MESSAGE(int2.ok(), (int2.ok() ? std::string() : int2.error().message));
  BOOST_TEST(int2->depth == 2);
  BOOST_TEST(int2->constraints.path_len == 1);  // derived: one less than the parent's
  // The key is in the key store, nowhere else.
  BOOST_TEST(f.keys->contains(int2->key_id));
  BOOST_TEST(int2->cert_pem.find("PRIVATE") == std::string::npos);

  intermediate_issuer issuer(*f.hierarchy, "ica-2");
  auto leaf = issuer.issue(f.leaf_request("www.shop.example.com"));
  BOOST_REQUIRE_MESSAGE(leaf.ok(), (leaf.ok() ? std::string() : leaf.error().message));
  BOOST_TEST(leaf->chain_pem == issuer.ca_chain_pem());

  const std::string d = f.tmp.path();
  write_text(d + "/root.pem", f.ca->ca_certificate_pem());
  write_text(d + "/chain.pem", leaf->chain_pem);
  write_text(d + "/leaf.pem", leaf->cert_pem);
  auto verified = run("openssl verify -CAfile " + d + "/root.pem -untrusted " + d + "/chain.pem " +
                      d + "/leaf.pem");
  BOOST_TEST_MESSAGE(verified.output);
  BOOST_TEST(verified.exit_code == 0);
  BOOST_TEST(verified.output.find(": OK") != std::string::npos);
  // Without the intermediates the leaf does not verify: the chain is really needed.
  BOOST_TEST(run("openssl verify -CAfile " + d + "/root.pem " + d + "/leaf.pem").exit_code != 0);
  // The leaf points at its issuing intermediate's CRL and OCSP locations.
  auto text = run("openssl x509 -noout -text -in " + d + "/leaf.pem");
  BOOST_TEST(text.output.find("/.well-known/pki/crl/ica-2") != std::string::npos);
  BOOST_TEST(text.output.find("/.well-known/pki/ocsp/ica-2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(constraint_violations_are_refused_with_clear_errors) {
  fixture f;
  BOOST_REQUIRE(f.add("ica-1", "iss-local", {1, {"example.com"}, {"secret.example.com"}}).ok());
  const auto outside = message_of(f.add("ica-x", "ica-1", {std::nullopt, {"example.org"}, {}}));
  BOOST_TEST(outside.find("\"example.org\" is not within the parent's permitted subtrees") !=
             std::string::npos);
  BOOST_TEST(message_of(f.add("ica-x", "ica-1", {1, {}, {}})).find("less than") !=
             std::string::npos);
  BOOST_REQUIRE(f.add("ica-2", "ica-1").ok());  // path length 0, inherits the names
  BOOST_TEST(message_of(f.add("ica-3", "ica-2")).find("pathLenConstraint 0") != std::string::npos);
  BOOST_TEST(!f.keys->contains("intermediate-ica-x"));  // nothing stored for refused CAs
  BOOST_TEST((f.add("ica-x", "ica-missing").error().code == hierarchy_errc::not_found));
}

BOOST_AUTO_TEST_CASE(leaves_outside_the_permitted_subtree_are_refused_at_issuance) {
  fixture f;
  BOOST_REQUIRE(
      f.add("ica-1", "iss-local", {std::nullopt, {"example.com"}, {"secret.example.com"}}).ok());
  BOOST_REQUIRE(f.add("ica-2", "ica-1", {std::nullopt, {"shop.example.com"}, {}}).ok());
  auto outside = f.hierarchy->issue_leaf("ica-2", f.leaf_request("www.example.org"));
  BOOST_REQUIRE(!outside.ok());
  BOOST_TEST((outside.error().code == issuer_errc::policy_violation));
  BOOST_TEST(outside.error().message.find("outside the permitted subtrees") != std::string::npos);
  auto sibling = f.hierarchy->issue_leaf("ica-2", f.leaf_request("blog.example.com"));
  BOOST_REQUIRE(!sibling.ok());  // within int1's subtree, but not int2's
  auto excluded = f.hierarchy->issue_leaf("ica-1", f.leaf_request("db.secret.example.com"));
  BOOST_REQUIRE(!excluded.ok());
  BOOST_TEST(excluded.error().message.find("excluded") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_retiring_ca_signs_nothing_new_but_keeps_its_signing_material) {
  fixture f;
  BOOST_REQUIRE(f.add("ica-1", "iss-local").ok());
  f.records["ica-1"].status = "retiring";
  auto leaf = f.hierarchy->issue_leaf("ica-1", f.leaf_request("a.example.com"));
  BOOST_REQUIRE(!leaf.ok());
  BOOST_TEST(leaf.error().message.find("retiring") != std::string::npos);
  BOOST_TEST((f.add("ica-2", "ica-1").error().code == hierarchy_errc::conflict));
  // CRL/OCSP signing still needs the certificate and key of a retiring CA.
  auto material = f.hierarchy->signing_material_of("ica-1");
  BOOST_REQUIRE(material.ok());
  BOOST_TEST(material->status == "retiring");
  BOOST_TEST(material->key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
  BOOST_TEST(crypto::check_key_matches_certificate(material->key_pem, material->cert_pem).ok());
  auto root = f.hierarchy->signing_material_of("iss-local");
  BOOST_REQUIRE(root.ok());
  BOOST_TEST(root->cert_pem == f.ca->ca_certificate_pem());
}

BOOST_AUTO_TEST_CASE(the_generic_ca_connector_picks_the_local_ca_or_an_intermediate_and_tests_it) {
  fixture f;
  BOOST_REQUIRE(f.add("ica-1", "iss-local", {1, {"example.com"}, {}}).ok());
  connector_registry registry;
  BOOST_REQUIRE(register_local_ca_connector(registry, {f.ca.get(), f.hierarchy.get()}).ok());
  const issuer_registration* generic = registry.find_issuer("GenericCA");
  BOOST_REQUIRE(generic != nullptr);

  auto local = generic->make({"iss-local", events::json_object{}});
  BOOST_REQUIRE(local.ok());
  BOOST_TEST(local->get() == static_cast<issuer*>(f.ca.get()));  // the server's CA itself
  auto local_test = (*local)->self_test();
  BOOST_REQUIRE_MESSAGE(local_test.ok(), (local_test.ok() ? "" : local_test.error().message));
  BOOST_TEST(local_test->ca_not_after_us > 0);
  BOOST_TEST((*local)->capabilities().crl);

  events::json_object tree;
  tree.set("intermediate_id", "ica-1");
  auto ica = generic->make({"iss-shop", tree});
  BOOST_REQUIRE(ica.ok());
  BOOST_TEST((*ica)->ca_chain_pem() == f.hierarchy->chain_of("ica-1").value());
  // Its name constraints (example.com only) do not stand in the way of the test certificate.
  auto ica_test = (*ica)->self_test();
  BOOST_REQUIRE_MESSAGE(ica_test.ok(), (ica_test.ok() ? "" : ica_test.error().message));
  BOOST_TEST(ica_test->message == "intermediate CA ica-1 signed a test certificate");
  {
    std::lock_guard<std::mutex> lock(f.mutex);
    f.records["ica-1"].status = "retired";
  }
  auto retired = (*ica)->self_test();
  BOOST_REQUIRE(!retired.ok());
  BOOST_TEST(retired.error().message.find("retired") != std::string::npos);

  tree.set("intermediate_id", "");
  BOOST_TEST(!generic->make({"iss-shop", tree}).ok());
}

BOOST_AUTO_TEST_SUITE_END()
