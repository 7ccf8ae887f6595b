#include "gateways/rest/governance_routes.hpp"

#include <algorithm>
#include <cctype>

#include "gateways/rest/command_support.hpp"
#include "gateways/rest/query_support.hpp"
#include "infra/net/ip_address.hpp"
#include "projections/policy_violation_projection.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

bool equal_ignoring_case(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool version_matches(const std::string& pattern, const std::string& version) {
  if (!pattern.empty() && pattern.back() == '*')
    return version.compare(0, pattern.size() - 1, pattern, 0, pattern.size() - 1) == 0;
  return pattern == version;
}

/// Every agent that is not retired, oldest first (groups are small enough to filter here).
sql::db_result<std::vector<events::json_object>> all_agents(sql::database& db) {
  std::vector<events::json_object> out;
  for (std::int64_t page = 1;; ++page) {
    auto p = projections::list_resources(db, "agent", page, 500);
    if (!p) return p.error();
    for (const auto& doc : p->data)
      if (auto agent = events::json_object::parse(doc)) out.push_back(std::move(*agent));
    if (static_cast<std::int64_t>(out.size()) >= p->total || p->data.empty()) break;
  }
  return out;
}

}  // namespace

bool agent_matches_group(const events::json_object& group, const events::json_object& agent) {
  if (!group.boolean("enabled", true) || agent.has("retired_at")) return false;
  if (group.has("match_os") && !equal_ignoring_case(group.str("match_os"), agent.str("os")))
    return false;
  if (group.has("match_architecture") &&
      !equal_ignoring_case(group.str("match_architecture"), agent.str("architecture")))
    return false;
  if (group.has("match_version") &&
      !version_matches(group.str("match_version"), agent.str("version")))
    return false;
  if (group.has("match_ip_cidr")) {
    auto range = net::parse_cidr(group.str("match_ip_cidr"));
    net::ip_address ip;
    if (!range || !net::parse_ip(agent.str("ip_address"), ip) || !range->contains(ip)) return false;
  }
  return true;
}

resource_hook agent_group_hook() {
  resource_hook h;
  h.before = [](const http::request_context&, const std::string&, bool,
                events::json_object& body) -> std::optional<http::response> {
    if (!body.is_string("match_ip_cidr") || body.str("match_ip_cidr").empty()) {
      if (body.is_string("match_ip_cidr")) body.remove("match_ip_cidr");
      return std::nullopt;
    }
    auto range = net::parse_cidr(body.str("match_ip_cidr"));
    if (!range) return http::error_response(400, "field 'match_ip_cidr': " + range.error().message);
    return std::nullopt;
  };
  return h;
}

void add_governance_routes(http::router& r, governance_context& ctx) {
  r.add("GET", "/api/v1/policies/{id}/violations", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    return page_or_error(
        projections::list_policy_violations(ctx.db, c.path_param("id"), p->page, p->per_page));
  });
  r.add("GET", "/api/v1/agent-groups/{id}/members", role::viewer, [&ctx](http::request_context& c) {
    http::response err;
    auto p = paging_of(c, err);
    if (!p) return err;
    auto doc = projections::get_resource(ctx.db, "agent_group", c.path_param("id"));
    if (!doc) return error_response(doc.error());
    projections::json_page page;
    page.page = p->page;
    page.per_page = p->per_page;
    if (doc->has_value()) {
      const auto group = events::json_object::parse(**doc).value_or(events::json_object{});
      auto agents = all_agents(ctx.db);
      if (!agents) return error_response(agents.error());
      std::vector<std::string> members;
      for (const auto& a : *agents)
        if (agent_matches_group(group, a)) members.push_back(a.dump());
      page.total = static_cast<std::int64_t>(members.size());
      const auto first = (p->page - 1) * p->per_page;
      for (auto i = first; i < page.total && i < first + p->per_page; ++i)
        page.data.push_back(members[static_cast<size_t>(i)]);
    }
    return http::json_response(projections::page_json(page));
  });
}

}  // namespace certctl::gateways::rest
