#include "connectors/connector_error.hpp"

namespace certctl::connectors {

std::string_view to_string(connector_errc c) {
  switch (c) {
    case connector_errc::invalid_config:
      return "invalid_config";
    case connector_errc::invalid_request:
      return "invalid_request";
    case connector_errc::unsupported:
      return "unsupported";
    case connector_errc::unavailable:
      return "unavailable";
    case connector_errc::failed:
      return "failed";
    case connector_errc::internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace certctl::connectors
