#include "infra/store/store_url.hpp"

#include "infra/store/memory_store.hpp"
#include "infra/store/postgres_store.hpp"
#include "infra/store/sqlite_store.hpp"

namespace certctl::store {

store_result<store_url> parse_store_url(const std::string& url) {
  auto parsed = sql::parse_db_url(url);
  if (!parsed) return store_error{store_errc::bad_url, parsed.error().message};
  return std::move(parsed).value();
}

store_result<std::unique_ptr<event_store>> open_event_store(const std::string& url,
                                                            const store_options& options) {
  auto parsed = parse_store_url(url);
  if (!parsed) return parsed.error();
  switch (parsed->k) {
    case store_url::kind::memory:
      return make_memory_store(options);
    case store_url::kind::sqlite:
      return open_sqlite_store(parsed->location, options);
    case store_url::kind::postgres:
      return open_postgres_store(parsed->location, options);
  }
  return store_error{store_errc::bad_url, "unknown store URL kind"};
}

}  // namespace certctl::store
