#include "gateways/http/request_id.hpp"

#include "infra/crypto/random.hpp"

namespace certctl::gateways::http {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > max_request_id_length) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string new_request_id() {
  return crypto::uuid_v4();
}

std::string choose_request_id(std::string_view client_supplied) {
  if (is_sane_request_id(client_supplied)) return std::string(client_supplied);
  return new_request_id();
}

}  // namespace certctl::gateways::http
