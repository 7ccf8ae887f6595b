#pragma once
/// What a CA certificate allows below it, and the rules a child CA's constraints must follow
/// so that the hierarchy is checked here, fail-closed, instead of only by relying parties:
///
///   RFC 5280 §4.2.1.9  a CA with pathLenConstraint N may have at most N CAs below it, so a
///                      child's path length must be below its parent's (a parent with 0 signs
///                      no CA at all).
///   RFC 5280 §4.2.1.10 name constraints accumulate down a path, so a child's permitted
///                      subtrees must lie within its parent's permitted ones and the parent's
///                      excluded subtrees stay excluded.
///
/// Only dNSName constraints are handled (the only kind the signer writes). DNS subtree
/// semantics follow RFC 5280 and OpenSSL's verifier: "example.com" covers example.com and
/// every name below it; ".example.com" covers only names strictly below example.com.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infra/crypto/crypto_error.hpp"

namespace certctl::crypto {

struct ca_constraints {
  int path_len = -1;  ///< basicConstraints pathLenConstraint; -1: unconstrained
  std::vector<std::string> permitted_dns;  ///< lower-case subtrees; empty: all names
  std::vector<std::string> excluded_dns;   ///< lower-case subtrees
};

/// What a request asks of a new child CA; unset fields are derived from the parent.
struct child_constraints_request {
  std::optional<int> path_len;             ///< nullopt: one less than the parent's, if any
  std::vector<std::string> permitted_dns;  ///< empty: the parent's permitted subtrees
  std::vector<std::string> excluded_dns;   ///< added to the parent's excluded subtrees
};

/// Largest path length accepted for a new CA; deeper hierarchies are a configuration mistake.
inline constexpr int max_path_len = 16;

/// A DNS subtree in canonical form (lower case, optional leading '.'), or an error naming it.
crypto_result<std::string> normalize_dns_subtree(std::string_view subtree);

/// True when the DNS name `name` lies within `subtree` (both already lower case).
bool dns_name_in_subtree(std::string_view name, std::string_view subtree);

/// True when every name `inner` covers is also covered by `outer` (canonical forms).
bool dns_subtree_within(std::string_view inner, std::string_view outer);

/// The constraints a child of `parent` gets for `request`, or an error that says which rule
/// the request breaks. The result carries everything inherited, so it alone is effective.
crypto_result<ca_constraints> derive_child_constraints(const ca_constraints& parent,
                                                       const child_constraints_request& request);

/// Succeeds when a certificate for the DNS name `name` may be issued under `c`; the error says
/// which subtree refuses it.
crypto_result<done> check_dns_name_allowed(const ca_constraints& c, std::string_view name);

/// The path length and dNSName constraints a CA certificate (PEM) carries. A certificate that is
/// not a CA, or that has name constraints of other kinds than dNSName in its permitted subtrees,
/// is refused: we would not know what its children may be allowed.
crypto_result<ca_constraints> read_ca_constraints(std::string_view cert_pem);

}  // namespace certctl::crypto
