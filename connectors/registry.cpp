#include "connectors/registry.hpp"

namespace certctl::connectors {

std::string_view to_string(connector_kind k) {
  switch (k) {
    case connector_kind::issuer:
      return "issuer";
    case connector_kind::target:
      return "target";
    case connector_kind::notifier:
      return "notifier";
    case connector_kind::discovery:
      return "discovery source";
  }
  return "unknown";
}

namespace {

template <class Table, class R>
certctl::result<done, std::string> insert(Table& table, connector_kind kind, R r) {
  const std::string what = std::string(to_string(kind)) + " connector";
  if (r.type.empty()) return what + " registered without a type name";
  if (!r.make) return what + " " + r.type + " registered without a factory";
  if (auto s = check_schema(r.schema); !s) return what + " " + r.type + ": " + s.error();
  if (table.count(r.type) != 0) return what + " " + r.type + " is registered twice";
  std::string type = r.type;
  table.emplace(std::move(type), std::move(r));
  return done{};
}

template <class Table>
auto lookup(const Table& table, std::string_view type) -> decltype(&table.begin()->second) {
  auto it = table.find(type);
  return it == table.end() ? nullptr : &it->second;
}

template <class Table>
std::vector<std::string> names(const Table& table) {
  std::vector<std::string> out;
  for (const auto& [name, r] : table) out.push_back(name);
  return out;  // std::map: already sorted
}

}  // namespace

certctl::result<done, std::string> connector_registry::add(issuer_registration r) {
  return insert(issuers_, connector_kind::issuer, std::move(r));
}
certctl::result<done, std::string> connector_registry::add(target_registration r) {
  return insert(targets_, connector_kind::target, std::move(r));
}
certctl::result<done, std::string> connector_registry::add(notifier_registration r) {
  return insert(notifiers_, connector_kind::notifier, std::move(r));
}
certctl::result<done, std::string> connector_registry::add(discovery_registration r) {
  return insert(discovery_, connector_kind::discovery, std::move(r));
}

const issuer_registration* connector_registry::find_issuer(std::string_view type) const {
  return lookup(issuers_, type);
}
const target_registration* connector_registry::find_target(std::string_view type) const {
  return lookup(targets_, type);
}
const notifier_registration* connector_registry::find_notifier(std::string_view type) const {
  return lookup(notifiers_, type);
}
const discovery_registration* connector_registry::find_discovery(std::string_view type) const {
  return lookup(discovery_, type);
}

const config_schema* connector_registry::schema(connector_kind kind, std::string_view type) const {
  switch (kind) {
    case connector_kind::issuer:
      if (auto* r = find_issuer(type)) return &r->schema;
      return nullptr;
    case connector_kind::target:
      if (auto* r = find_target(type)) return &r->schema;
      return nullptr;
    case connector_kind::notifier:
      if (auto* r = find_notifier(type)) return &r->schema;
      return nullptr;
    case connector_kind::discovery:
      if (auto* r = find_discovery(type)) return &r->schema;
      return nullptr;
  }
  return nullptr;
}

std::vector<std::string> connector_registry::types(connector_kind kind) const {
  switch (kind) {
    case connector_kind::issuer:
      return names(issuers_);
    case connector_kind::target:
      return names(targets_);
    case connector_kind::notifier:
      return names(notifiers_);
    case connector_kind::discovery:
      return names(discovery_);
  }
  return {};
}

}  // namespace certctl::connectors
