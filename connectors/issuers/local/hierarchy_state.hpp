#pragma once
/// PRIVATE to connectors/issuers/local: the state behind ca_hierarchy, shared by hierarchy.cpp
/// (CA certificates) and hierarchy_leaf.cpp (leaf issuance).

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "connectors/issuers/local/hierarchy.hpp"

namespace certctl::connectors {

/// A CA ready to sign: everything that never changes for its id.
struct ca_node {
  std::string id;
  std::string cert_pem;
  std::string chain_pem;  ///< this CA first, up to the root
  std::shared_ptr<const crypto::certificate_signer> signer;
  /// Constraints of every CA from the root down to this one: a leaf must satisfy them all.
  std::vector<crypto::ca_constraints> path;
  int depth = 0;  ///< 0: the root
  std::string key_id;
};

struct ca_hierarchy::impl {
  root_ca_material root;
  crypto::key_store& keys;
  ca_lookup lookup;
  hierarchy_options options;
  std::shared_ptr<const ca_node> root_node;
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<const ca_node>> nodes;

  impl(root_ca_material r, crypto::key_store& k, ca_lookup l, hierarchy_options o)
      : root(std::move(r)), keys(k), lookup(std::move(l)), options(std::move(o)) {}

  std::int64_t now_us() const { return options.clock->now(); }

  std::string url(const char* what, const std::string& id) const {
    if (options.pki_base_url.empty()) return {};
    return options.pki_base_url + "/.well-known/pki/" + what + "/" + id;
  }

  /// The CA's current record; the root is always active.
  hierarchy_result<ca_record> record_of(const std::string& id) const;

  /// The CA's signer, chain and constraints, built on first use and cached.
  hierarchy_result<std::shared_ptr<const ca_node>> node_of(const std::string& id, int depth = 0);
};

}  // namespace certctl::connectors
