#include "connectors/issuers/acme/acme_util.hpp"

#include <cctype>
#include <map>

#include "events/json.hpp"

namespace certctl::connectors::acme {

issuer_error invalid(std::string m) {
  return {issuer_errc::invalid_request, std::move(m)};
}
issuer_error internal(std::string m) {
  return {issuer_errc::internal, std::move(m)};
}

std::string quoted(const std::string& s) {
  events::json_object o;
  o.set("v", s);
  const std::string d = o.dump();  // {"v":"..."}
  return d.substr(5, d.size() - 6);
}

/// base64url of the DER inside a PEM block (the first one).
std::string pem_body_b64url(const std::string& pem) {
  std::string b64;
  bool inside = false;
  size_t pos = 0;
  while (pos < pem.size()) {
    size_t end = pem.find('\n', pos);
    if (end == std::string::npos) end = pem.size();
    std::string line = pem.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = end + 1;
    if (line.rfind("-----BEGIN", 0) == 0) {
      inside = true;
      continue;
    }
    if (line.rfind("-----END", 0) == 0) break;
    if (inside) b64 += line;
  }
  std::string out;
  for (char c : b64) {
    if (c == '+')
      out += '-';
    else if (c == '/')
      out += '_';
    else if (c != '=')
      out += c;
  }
  return out;
}

std::string hex_to_bytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

/// RFC 5280 §5.3.1 reason codes; the reference accepts camelCase, snake_case and CAPS.
std::optional<int> reason_code(const std::string& reason) {
  std::string k;
  for (char c : reason)
    if (c != '_' && c != '-') k += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const std::map<std::string, int> codes = {{"", 0},
                                                   {"unspecified", 0},
                                                   {"keycompromise", 1},
                                                   {"cacompromise", 2},
                                                   {"affiliationchanged", 3},
                                                   {"superseded", 4},
                                                   {"cessationofoperation", 5},
                                                   {"certificatehold", 6},
                                                   {"removefromcrl", 8},
                                                   {"privilegewithdrawn", 9},
                                                   {"aacompromise", 10}};
  auto it = codes.find(k);
  if (it == codes.end()) return std::nullopt;
  return it->second;
}

}  // namespace certctl::connectors::acme
