#include "infra/store/event_store.hpp"

#include <ostream>

namespace certctl::store {

const char* to_string(store_errc c) {
  switch (c) {
    case store_errc::wrong_expected_version:
      return "wrong_expected_version";
    case store_errc::invalid_argument:
      return "invalid_argument";
    case store_errc::payload_too_large:
      return "payload_too_large";
    case store_errc::corrupt:
      return "corrupt";
    case store_errc::unavailable:
      return "unavailable";
    case store_errc::bad_url:
      return "bad_url";
    case store_errc::closed:
      return "closed";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, store_errc c) {
  return os << to_string(c);
}

}  // namespace certctl::store
