#include "tools/audit/open_store.hpp"

#include <filesystem>

#include "infra/store/store_url.hpp"

namespace certctl::audit {

store::store_result<std::unique_ptr<store::event_store>> open_existing_store(
    const std::string& url) {
  auto parsed = store::parse_store_url(url);
  if (!parsed) return parsed.error();
  if (parsed->k == store::store_url::kind::sqlite) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(parsed->location, ec))
      return store::store_error{store::store_errc::unavailable,
                                "no SQLite event store at " + parsed->location};
  }
  // Readers need no write batching; a small pool suffices for one sequential walk.
  store::store_options options;
  options.read_pool_size = 1;
  return store::open_event_store(url, options);
}

}  // namespace certctl::audit
