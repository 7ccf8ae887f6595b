// ca_hierarchy: root loading, the CA node cache, child CA signing. Leaves: hierarchy_leaf.cpp.
#include "connectors/issuers/local/hierarchy.hpp"

#include <algorithm>

#include "connectors/issuers/local/hierarchy_state.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors {
namespace {

constexpr std::int64_t us_per_s = 1'000'000;
/// Parent links followed before giving up: deeper than any sane hierarchy, and a bound on
/// a cycle that corrupt data could create.
constexpr int max_depth = 32;

const infra::system_clock default_clock;

hierarchy_error herr(hierarchy_errc code, std::string message) {
  return hierarchy_error{code, std::move(message)};
}

}  // namespace

hierarchy_result<ca_record> ca_hierarchy::impl::record_of(const std::string& id) const {
  if (id == root.id) return ca_record{root.id, "", "active", root.cert_pem, "", ""};
  auto r = lookup(id);
  if (!r) return herr(hierarchy_errc::not_found, "CA " + id + " not found");
  return std::move(*r);
}

hierarchy_result<std::shared_ptr<const ca_node>> ca_hierarchy::impl::node_of(const std::string& id,
                                                                             int depth) {
  if (id == root.id) return root_node;
  if (depth > max_depth)
    return herr(hierarchy_errc::internal, "CA " + id + ": parent chain longer than " +
                                              std::to_string(max_depth) + " (a cycle?)");
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (auto it = nodes.find(id); it != nodes.end()) return it->second;
  }
  auto rec = record_of(id);
  if (!rec) return rec.error();
  auto parent = node_of(rec->parent_id, depth + 1);
  if (!parent) return parent.error();
  auto key = keys.get(rec->key_id);
  if (!key)
    return herr(
        hierarchy_errc::unavailable,
        "CA " + id + ": key " + rec->key_id + " is not in the key store: " + key.error().message);
  auto signer = crypto::certificate_signer::create(rec->cert_pem, key.value());
  if (!signer) return herr(hierarchy_errc::internal, "CA " + id + ": " + signer.error().message);
  auto constraints = crypto::read_ca_constraints(rec->cert_pem);
  if (!constraints)
    return herr(hierarchy_errc::internal, "CA " + id + ": " + constraints.error().message);
  auto node = std::make_shared<ca_node>();
  node->id = id;
  node->cert_pem = rec->cert_pem;
  node->chain_pem = rec->cert_pem + (*parent)->chain_pem;
  node->signer = std::make_shared<const crypto::certificate_signer>(std::move(signer).value());
  node->path = (*parent)->path;
  node->path.push_back(std::move(constraints).value());
  node->depth = (*parent)->depth + 1;
  node->key_id = rec->key_id;
  std::lock_guard<std::mutex> lock(mutex);
  return nodes.emplace(id, std::move(node)).first->second;
}

hierarchy_result<root_ca_material> load_root_material(const local_ca_config& c) {
  auto fail = [](std::string m) { return herr(hierarchy_errc::unavailable, "CA root: " + m); };
  root_ca_material out;
  out.id = c.issuer_id;
  if (!c.ca_cert_path.empty()) {
    auto text = crypto::read_file(c.ca_cert_path, crypto::max_chain_pem);
    if (!text) return fail(text.error().message);
    auto chain = crypto::split_pem_chain(text.value());
    if (!chain) return fail(chain.error().message);
    auto key = crypto::read_file(c.ca_key_path, crypto::max_private_key_pem);
    if (!key) return fail(key.error().message);
    out.cert_pem = chain.value().front();
    for (const auto& pem : chain.value()) out.chain_pem += pem;
    out.key_pem = std::move(key).value();
    out.key_passphrase = c.ca_key_passphrase;
    return out;
  }
  const std::string master_path =
      c.master_key_path.empty() ? c.data_dir + "/master.key" : c.master_key_path;
  if (!crypto::file_exists(master_path)) return fail(master_path + " does not exist");
  auto master = crypto::load_or_create_master_key(master_path);
  if (!master) return fail(master.error().message);
  const std::string dir = c.data_dir + "/issuers/" + c.issuer_id;
  auto store = crypto::key_store::open(dir, master.value());
  if (!store) return fail(store.error().message);
  auto key = store.value().get("ca");
  if (!key) return fail("load key \"ca\": " + key.error().message);
  auto cert = crypto::read_file(dir + "/ca.pem", crypto::max_chain_pem);
  if (!cert) return fail(cert.error().message);
  out.cert_pem = cert.value();
  out.chain_pem = std::move(cert).value();
  out.key_pem = std::move(key).value();
  return out;
}

ca_hierarchy::ca_hierarchy(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ca_hierarchy::~ca_hierarchy() = default;

hierarchy_result<std::unique_ptr<ca_hierarchy>> ca_hierarchy::create(root_ca_material root,
                                                                     crypto::key_store& keys,
                                                                     ca_lookup lookup,
                                                                     hierarchy_options options) {
  if (options.clock == nullptr) options.clock = &default_clock;
  while (!options.pki_base_url.empty() && options.pki_base_url.back() == '/')
    options.pki_base_url.pop_back();
  auto signer =
      crypto::certificate_signer::create(root.cert_pem, root.key_pem, root.key_passphrase);
  if (!signer) return herr(hierarchy_errc::unavailable, "CA root: " + signer.error().message);
  auto constraints = crypto::read_ca_constraints(root.cert_pem);
  if (!constraints)
    return herr(hierarchy_errc::unavailable, "CA root: " + constraints.error().message);
  auto node = std::make_shared<ca_node>();
  node->id = root.id;
  node->cert_pem = root.cert_pem;
  node->chain_pem = root.chain_pem.empty() ? root.cert_pem : root.chain_pem;
  node->signer = std::make_shared<const crypto::certificate_signer>(std::move(signer).value());
  node->path.push_back(std::move(constraints).value());
  auto p = std::make_unique<impl>(std::move(root), keys, std::move(lookup), std::move(options));
  p->root_node = std::move(node);
  return std::unique_ptr<ca_hierarchy>(new ca_hierarchy(std::move(p)));
}

const std::string& ca_hierarchy::root_id() const {
  return impl_->root.id;
}

hierarchy_result<child_ca> ca_hierarchy::sign_child(const child_ca_request& r) {
  if (!crypto::valid_key_id("intermediate-" + r.id))
    return herr(hierarchy_errc::invalid, "CA id \"" + r.id + "\" is not a valid id");
  auto parent_rec = impl_->record_of(r.parent_id);
  if (!parent_rec) return parent_rec.error();
  if (parent_rec->status != "active")
    return herr(hierarchy_errc::conflict, "parent CA " + r.parent_id + " is " + parent_rec->status +
                                              "; it signs no new CA certificates");
  auto parent = impl_->node_of(r.parent_id);
  if (!parent) return parent.error();
  const ca_node& p = **parent;
  auto constraints = crypto::derive_child_constraints(p.path.back(), r.constraints);
  if (!constraints) return herr(hierarchy_errc::invalid, constraints.error().message);
  // Every CA above the parent constrains the child's names too (constraints accumulate).
  for (size_t i = 0; i + 1 < p.path.size(); ++i)
    for (const auto& sub : constraints.value().permitted_dns)
      if (!p.path[i].permitted_dns.empty() &&
          std::none_of(p.path[i].permitted_dns.begin(), p.path[i].permitted_dns.end(),
                       [&](const std::string& up) { return crypto::dns_subtree_within(sub, up); }))
        return herr(hierarchy_errc::invalid, "name constraints: permitted subtree \"" + sub +
                                                 "\" is outside what an ancestor CA permits "
                                                 "(RFC 5280 §4.2.1.10)");

  const std::int64_t now = impl_->now_us();
  crypto::certificate_template t;
  t.subject = r.subject;
  t.is_ca = true;
  t.path_len = constraints.value().path_len;
  t.permitted_dns = constraints.value().permitted_dns;
  t.excluded_dns = constraints.value().excluded_dns;
  t.not_before = now / us_per_s;
  t.not_after =
      std::min((now + std::max<std::int64_t>(r.ttl_us, 0)) / us_per_s, p.signer->ca_not_after());
  if (t.not_after <= t.not_before)
    return herr(hierarchy_errc::unavailable, "parent CA " + r.parent_id + " has expired");
  t.crl_url = impl_->url("crl", r.parent_id);
  t.ocsp_url =
      parent_rec->ocsp_url.empty() ? impl_->url("ocsp", r.parent_id) : parent_rec->ocsp_url;

  auto key = crypto::generate_key(r.algorithm);
  if (!key) return herr(hierarchy_errc::internal, key.error().message);
  t.public_key_der = key.value().public_key.spki_der;
  auto signed_cert = p.signer->sign_certificate(t);
  if (!signed_cert) return herr(hierarchy_errc::invalid, signed_cert.error().message);
  // The key is stored only once the certificate exists, and before anyone can learn of the CA.
  const std::string key_id = "intermediate-" + r.id;
  if (auto put = impl_->keys.put(key_id, key.value().pem); !put)
    return herr(hierarchy_errc::unavailable, "key store: " + put.error().message);
  crypto::signed_certificate& c = signed_cert.value();
  child_ca out;
  out.cert_pem = std::move(c.pem);
  out.serial_hex = std::move(c.serial_hex);
  out.fingerprint_sha256_hex = std::move(c.fingerprint_sha256_hex);
  out.key_id = key_id;
  out.not_before_us = c.not_before * us_per_s;
  out.not_after_us = c.not_after * us_per_s;
  out.constraints = std::move(constraints).value();
  out.depth = p.depth + 1;
  return out;
}

void ca_hierarchy::discard_child_key(const std::string& key_id) {
  impl_->keys.remove(key_id);
}

hierarchy_result<std::string> ca_hierarchy::chain_of(const std::string& id) {
  auto node = impl_->node_of(id);
  if (!node) return node.error();
  return (*node)->chain_pem;
}

hierarchy_result<crypto::ca_constraints> ca_hierarchy::constraints_of(const std::string& id) {
  auto node = impl_->node_of(id);
  if (!node) return node.error();
  return (*node)->path.back();
}

hierarchy_result<signing_material> ca_hierarchy::signing_material_of(const std::string& id) {
  auto rec = impl_->record_of(id);
  if (!rec) return rec.error();
  auto node = impl_->node_of(id);
  if (!node) return node.error();
  std::string key_pem;
  if (id == impl_->root.id) {
    // Re-encoded as plain PKCS#8: the operator's file may be encrypted or traditional.
    auto key = crypto::parse_private_key(impl_->root.key_pem, impl_->root.key_passphrase);
    if (!key) return herr(hierarchy_errc::internal, key.error().message);
    key_pem = std::move(key).value().pem;
  } else {
    auto key = impl_->keys.get((*node)->key_id);
    if (!key) return herr(hierarchy_errc::unavailable, key.error().message);
    key_pem = std::move(key).value();
  }
  return signing_material{(*node)->cert_pem, std::move(key_pem), (*node)->chain_pem, rec->status};
}

}  // namespace certctl::connectors
