#include "infra/crypto/ca_constraints.hpp"

#include <algorithm>
#include <cctype>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {
namespace {

using detail::ossl_ptr;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// True when `name` is strictly below `domain` ("a.example.com" below "example.com").
bool strictly_below(std::string_view name, std::string_view domain) {
  return name.size() > domain.size() + 1 && ends_with(name, domain) &&
         name[name.size() - domain.size() - 1] == '.';
}

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

void add_unique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

}  // namespace

crypto_result<std::string> normalize_dns_subtree(std::string_view subtree) {
  if (subtree.empty() || subtree == ".")
    return crypto_error{"name constraint: an empty DNS subtree would match every name"};
  const std::string canonical = lower(subtree);
  // The signer's own check, so whatever passes here can be written into a certificate.
  if (auto gn = detail::make_dns_name(canonical, true); !gn)
    return crypto_error{"name constraint " + quoted(subtree) + ": " + gn.error().message};
  if (canonical.find('*') != std::string::npos)
    return crypto_error{"name constraint " + quoted(subtree) +
                        ": wildcards are not used in subtrees; write \".example.com\" for the "
                        "names below example.com"};
  return canonical;
}

bool dns_name_in_subtree(std::string_view name, std::string_view subtree) {
  if (!subtree.empty() && subtree.front() == '.') return strictly_below(name, subtree.substr(1));
  return name == subtree || strictly_below(name, subtree);
}

bool dns_subtree_within(std::string_view inner, std::string_view outer) {
  const bool inner_strict = !inner.empty() && inner.front() == '.';
  const std::string_view inner_base = inner_strict ? inner.substr(1) : inner;
  if (!outer.empty() && outer.front() == '.') {
    // outer covers only names strictly below outer_base.
    const std::string_view outer_base = outer.substr(1);
    return strictly_below(inner_base, outer_base) || (inner_strict && inner_base == outer_base);
  }
  return inner_base == outer || strictly_below(inner_base, outer);
}

crypto_result<ca_constraints> derive_child_constraints(const ca_constraints& parent,
                                                       const child_constraints_request& request) {
  ca_constraints child;
  // §4.2.1.9: pathLenConstraint N allows N more CAs below; the child uses one of them.
  if (parent.path_len == 0)
    return crypto_error{
        "path length: the parent CA has pathLenConstraint 0 and may not sign CA certificates "
        "(RFC 5280 §4.2.1.9)"};
  if (request.path_len) {
    const int wanted = *request.path_len;
    if (wanted < 0 || wanted > max_path_len)
      return crypto_error{"path length: path_len_constraint must be between 0 and " +
                          std::to_string(max_path_len) + ", got " + std::to_string(wanted)};
    if (parent.path_len > 0 && wanted >= parent.path_len)
      return crypto_error{"path length: path_len_constraint " + std::to_string(wanted) +
                          " must be less than the parent's " + std::to_string(parent.path_len) +
                          " (RFC 5280 §4.2.1.9)"};
    child.path_len = wanted;
  } else {
    child.path_len = parent.path_len > 0 ? parent.path_len - 1 : -1;
  }

  std::vector<std::string> permitted, excluded;
  for (const auto& p : request.permitted_dns) {
    auto n = normalize_dns_subtree(p);
    if (!n) return n.error();
    add_unique(permitted, n.value());
  }
  for (const auto& e : request.excluded_dns) {
    auto n = normalize_dns_subtree(e);
    if (!n) return n.error();
    add_unique(excluded, n.value());
  }
  // §4.2.1.10: every permitted subtree of the child must lie within one of the parent's.
  if (permitted.empty()) {
    permitted = parent.permitted_dns;
  } else if (!parent.permitted_dns.empty()) {
    for (const auto& c : permitted) {
      const bool inside =
          std::any_of(parent.permitted_dns.begin(), parent.permitted_dns.end(),
                      [&](const std::string& p) { return dns_subtree_within(c, p); });
      if (!inside) {
        std::string list;
        for (const auto& p : parent.permitted_dns) list += (list.empty() ? "" : ", ") + quoted(p);
        return crypto_error{"name constraints: permitted subtree " + quoted(c) +
                            " is not within the parent's permitted subtrees (" + list +
                            ") (RFC 5280 §4.2.1.10)"};
      }
    }
  }
  // A permitted subtree wholly inside an excluded one permits nothing: surely a mistake.
  for (const auto& c : permitted) {
    for (const auto& x : parent.excluded_dns)
      if (dns_subtree_within(c, x))
        return crypto_error{"name constraints: permitted subtree " + quoted(c) +
                            " lies within the parent's excluded subtree " + quoted(x)};
    for (const auto& x : excluded)
      if (dns_subtree_within(c, x))
        return crypto_error{"name constraints: permitted subtree " + quoted(c) +
                            " lies within the excluded subtree " + quoted(x) +
                            " of the same request"};
  }
  child.permitted_dns = std::move(permitted);
  child.excluded_dns = parent.excluded_dns;
  for (const auto& x : excluded) add_unique(child.excluded_dns, x);
  return child;
}

crypto_result<done> check_dns_name_allowed(const ca_constraints& c, std::string_view name) {
  const std::string n = lower(name);
  for (const auto& x : c.excluded_dns)
    if (dns_name_in_subtree(n, x))
      return crypto_error{"name " + quoted(name) + " is in the excluded subtree " + quoted(x)};
  if (c.permitted_dns.empty()) return done{};
  for (const auto& p : c.permitted_dns)
    if (dns_name_in_subtree(n, p)) return done{};
  std::string list;
  for (const auto& p : c.permitted_dns) list += (list.empty() ? "" : ", ") + quoted(p);
  return crypto_error{"name " + quoted(name) + " is outside the permitted subtrees (" + list + ")"};
}

crypto_result<ca_constraints> read_ca_constraints(std::string_view cert_pem) {
  auto cert = detail::load_certificate(cert_pem);
  if (!cert) return cert.error();
  X509* x = cert.value().get();
  ca_constraints out;
  int crit = 0;
  ossl_ptr<BASIC_CONSTRAINTS> bc(
      static_cast<BASIC_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_basic_constraints, &crit, nullptr)));
  if (!bc || !bc->ca) return crypto_error{"read CA constraints: the certificate is not a CA"};
  if (bc->pathlen != nullptr) {
    std::int64_t len = 0;
    if (ASN1_INTEGER_get_int64(&len, bc->pathlen) != 1 || len < 0)
      return crypto_error{"read CA constraints: malformed pathLenConstraint"};
    out.path_len = static_cast<int>(std::min<std::int64_t>(len, 1 << 20));
  }
  ossl_ptr<NAME_CONSTRAINTS> nc(
      static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, &crit, nullptr)));
  if (!nc) {
    if (crit != -1)  // -1: absent; anything else is an extension we could not decode
      return crypto_error{"read CA constraints: malformed nameConstraints"};
    return out;
  }
  auto collect = [](STACK_OF(GENERAL_SUBTREE) * subtrees, std::vector<std::string> & into,
                    bool refuse_other_kinds) -> crypto_result<done> {
    for (int i = 0; i < sk_GENERAL_SUBTREE_num(subtrees); ++i) {
      const GENERAL_SUBTREE* s = sk_GENERAL_SUBTREE_value(subtrees, i);
      if (s->base->type != GEN_DNS) {
        // An unknown permitted kind narrows what children may certify in ways we do not
        // check; excluded kinds of other types only ever narrow, so they can be ignored.
        if (refuse_other_kinds)
          return crypto_error{
              "read CA constraints: permitted subtrees other than dNSName are "
              "not supported"};
        continue;
      }
      const ASN1_IA5STRING* d = s->base->d.dNSName;
      into.push_back(lower(std::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                            static_cast<size_t>(ASN1_STRING_length(d)))));
    }
    return done{};
  };
  if (auto r = collect(nc->permittedSubtrees, out.permitted_dns, true); !r) return r.error();
  if (auto r = collect(nc->excludedSubtrees, out.excluded_dns, false); !r) return r.error();
  return out;
}

}  // namespace certctl::crypto
