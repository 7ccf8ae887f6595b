#include "connectors/notifiers/notifier.hpp"

namespace certctl::connectors {

std::string_view to_string(severity s) {
  switch (s) {
    case severity::info:
      return "info";
    case severity::warning:
      return "warning";
    case severity::critical:
      return "critical";
  }
  return "unknown";
}

}  // namespace certctl::connectors
