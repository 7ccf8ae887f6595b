#include "connectors/targets/target.hpp"

namespace certctl::connectors {

std::string_view to_string(target_location l) {
  switch (l) {
    case target_location::agent:
      return "agent";
    case target_location::proxy_agent:
      return "proxy_agent";
    case target_location::server:
      return "server";
  }
  return "unknown";
}

}  // namespace certctl::connectors
