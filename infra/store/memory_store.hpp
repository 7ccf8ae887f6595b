#pragma once
/// In-process backend for unit tests: same semantics as the durable ones, nothing on disk.

#include <memory>

#include "infra/store/event_store.hpp"

namespace certctl::store {

std::unique_ptr<event_store> make_memory_store(const store_options& options = {});

}  // namespace certctl::store
