#include "connectors/issuers/issuer.hpp"

namespace certctl::connectors {

std::string_view to_string(issuer_errc c) {
  switch (c) {
    case issuer_errc::invalid_request:
      return "invalid_request";
    case issuer_errc::bad_csr:
      return "bad_csr";
    case issuer_errc::policy_violation:
      return "policy_violation";
    case issuer_errc::unavailable:
      return "unavailable";
    case issuer_errc::internal:
      return "internal";
    case issuer_errc::unsupported:
      return "unsupported";
  }
  return "unknown";
}

std::string_view to_string(order_state s) {
  switch (s) {
    case order_state::pending:
      return "pending";
    case order_state::valid:
      return "valid";
    case order_state::invalid:
      return "invalid";
    case order_state::expired:
      return "expired";
  }
  return "unknown";
}

certctl::result<done, issuer_error> issuer::revoke(const revocation_request&) {
  return issuer_error{issuer_errc::unsupported,
                      "issuer type " + std::string(type()) + " does not revoke at the CA"};
}

certctl::result<order_status, issuer_error> issuer::get_order_status(const std::string&) {
  return issuer_error{issuer_errc::unsupported, "issuer type " + std::string(type()) +
                                                    " issues synchronously; it has no orders"};
}

certctl::result<done, issuer_error> issuer::cancel_order(const std::string&) {
  return issuer_error{issuer_errc::unsupported,
                      "issuer type " + std::string(type()) + " cannot cancel an order at the CA"};
}

certctl::result<issuer_test_report, issuer_error> issuer::self_test() {
  return issuer_error{issuer_errc::unsupported,
                      "issuer type " + std::string(type()) + " has no side-effect-free test"};
}

}  // namespace certctl::connectors
