#pragma once
/// Opens the log an audit command inspects. Audit commands only read: unlike the server, they
/// must not create an empty SQLite file when the path is mistyped, which would "verify" fine.

#include <memory>
#include <string>

#include "infra/store/event_store.hpp"

namespace certctl::audit {

/// Opens `url` for reading; a SQLite URL must name an existing file.
store::store_result<std::unique_ptr<store::event_store>> open_existing_store(
    const std::string& url);

}  // namespace certctl::audit
