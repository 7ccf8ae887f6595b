#include "connectors/config_service.hpp"

#include "infra/crypto/jwk.hpp"

namespace certctl::connectors {

namespace {

std::string associated_data(connector_kind kind, const std::string& id, const std::string& field) {
  return std::string(to_string(kind)) + "/" + id + "/" + field;
}

bool is_sealed(const std::string& v) {
  return v.rfind(sealed_prefix, 0) == 0;
}

config_violation violation(const std::string& field, std::string message) {
  return config_violation{field, "config field '" + field + "' " + std::move(message)};
}

}  // namespace

std::string no_connector_message(connector_kind kind, const std::string& type) {
  return "no connector for " + std::string(to_string(kind)) + " type " +
         (type.empty() ? std::string("\"\"") : type) + " on this server";
}

config_service::config_service(const connector_registry& registry,
                               const crypto::aead_key& master_key)
    : registry_(registry), key_(master_key) {}

certctl::result<events::json_object, config_violation> config_service::prepare(
    connector_kind kind, const std::string& type, const std::string& id,
    const events::json_object& config, const events::json_object* previous) const {
  const config_schema* schema = registry_.schema(kind, type);
  if (schema == nullptr) return config_violation{"type", no_connector_message(kind, type)};
  if (auto v = validate_config(*schema, config); !v) return v.error();
  events::json_object stored = config;
  for (const auto& field : schema->secret_fields()) {
    const char* f = field.c_str();
    if (!config.is_string(f)) continue;  // optional and absent (or null)
    const std::string value = config.str(f);
    const std::string kept = previous != nullptr && previous->is_string(f) ? previous->str(f) : "";
    if (value == redacted_value || (is_sealed(value) && value == kept)) {
      if (!is_sealed(kept))
        return violation(field, "is redacted; give the secret itself to set it");
      stored.set(f, kept);
      continue;
    }
    if (is_sealed(value))
      return violation(field, "looks sealed; give the secret itself, the server seals it");
    auto sealed = crypto::aead_seal(key_, value, associated_data(kind, id, field));
    if (!sealed) return violation(field, "could not be sealed: " + sealed.error().message);
    stored.set(f, std::string(sealed_prefix) + crypto::base64url_encode(sealed.value()));
  }
  return stored;
}

certctl::result<events::json_object, config_violation> config_service::open(
    connector_kind kind, const std::string& type, const std::string& id,
    const events::json_object& stored) const {
  const config_schema* schema = registry_.schema(kind, type);
  if (schema == nullptr) return config_violation{"type", no_connector_message(kind, type)};
  if (auto v = validate_config(*schema, stored); !v) return v.error();
  events::json_object clear = stored;
  for (const auto& field : schema->secret_fields()) {
    const char* f = field.c_str();
    if (!stored.is_string(f)) continue;
    const std::string value = stored.str(f);
    // Stored before the field was declared secret: it was never sealed, use it as it is.
    if (!is_sealed(value)) continue;
    auto raw = crypto::base64url_decode(std::string_view(value).substr(sealed_prefix.size()));
    if (!raw) return violation(field, "holds a damaged sealed value; set the secret again");
    auto opened = crypto::aead_open(key_, crypto::bytes(raw->begin(), raw->end()),
                                    associated_data(kind, id, field));
    if (!opened)
      return violation(field, "does not open with this server's master key (" +
                                  opened.error().message + "); set the secret again");
    clear.set(f, opened.value());
  }
  return clear;
}

events::json_object config_service::redact(connector_kind kind, const std::string& type,
                                           const events::json_object& config) const {
  events::json_object shown = config;
  if (const config_schema* schema = registry_.schema(kind, type))
    for (const auto& field : schema->secret_fields())
      if (config.has(field.c_str()) && !config.is_null(field.c_str()))
        shown.set(field.c_str(), std::string(redacted_value));
  for (const auto& key : config.keys())
    if (config.is_string(key.c_str()) && is_sealed(config.str(key.c_str())))
      shown.set(key.c_str(), std::string(redacted_value));
  return shown;
}

certctl::result<std::shared_ptr<issuer>, issuer_error> config_service::make_issuer(
    const std::string& id, const std::string& type, const events::json_object& stored) const {
  const issuer_registration* r = registry_.find_issuer(type);
  if (r == nullptr)
    return issuer_error{issuer_errc::invalid_request,
                        no_connector_message(connector_kind::issuer, type)};
  auto clear = open(connector_kind::issuer, type, id, stored);
  if (!clear) return issuer_error{issuer_errc::invalid_request, clear.error().message};
  return r->make(connector_settings{id, std::move(clear).value()});
}

std::string redact_sealed_values(std::string_view text) {
  const std::string needle = "\"" + std::string(sealed_prefix);
  std::string out;
  out.reserve(text.size());
  size_t from = 0;
  while (true) {
    const size_t at = text.find(needle, from);
    if (at == std::string_view::npos) break;
    // Only a string that starts here: the quote opens a value (after ':', ',', '[' or
    // whitespace), not one escaped inside another string.
    size_t before = at;
    while (before > 0 && (text[before - 1] == ' ' || text[before - 1] == '\n' ||
                          text[before - 1] == '\t' || text[before - 1] == '\r'))
      --before;
    const bool opens = before > 0 && (text[before - 1] == ':' || text[before - 1] == ',' ||
                                      text[before - 1] == '[');
    const size_t end = text.find('"', at + needle.size());
    if (!opens || end == std::string_view::npos) {
      out.append(text.substr(from, at + 1 - from));
      from = at + 1;
      continue;
    }
    out.append(text.substr(from, at - from));
    out.append("\"").append(redacted_value).append("\"");
    from = end + 1;
  }
  out.append(text.substr(from));
  return out;
}

}  // namespace certctl::connectors
