#pragma once
/// External representations of recorded events: JSON (export, API, event stream) and CSV.

#include <string>

#include "events/event.hpp"

namespace certctl::events {

/// One JSON object per event; occurred_at as RFC 3339, payload embedded as a JSON value.
std::string to_json(const recorded_event& e);

/// Header line matching to_csv_row's columns.
std::string csv_header();
/// One RFC 4180 row (no trailing newline); the payload column holds the JSON text.
std::string to_csv_row(const recorded_event& e);

}  // namespace certctl::events
