#pragma once
/// Rendering of API answers for people (aligned tables, "key: value" lines) and for scripts
/// (the server's JSON, unchanged). Parsing is lenient about missing fields, which show as "-",
/// so an older or newer server still prints.

#include <iosfwd>
#include <string>
#include <vector>

#include "tools/cli/http_client.hpp"

namespace certctl::client {

/// One table column: the value of `field`, followed by "/" and `suffix_field` when that is set
/// (ATTEMPTS shows "attempts/max_attempts").
struct column {
  const char* header;
  const char* field;
  const char* suffix_field = nullptr;
};

/// Prints the `data` array of a pagination envelope as a table, then the footer
/// "page P of N (T total)". False (nothing printed) when `body` is not such an envelope.
bool print_list(const std::string& body, const std::vector<column>& columns, std::ostream& os);

/// Prints a JSON object's members as aligned "key: value" lines, in the server's order.
/// False (nothing printed) when `body` is not a JSON object.
bool print_object(const std::string& body, std::ostream& os);

/// Prints `body` as received, ending with a newline.
void print_raw(const std::string& body, std::ostream& os);

/// "<message> (request <id>)" from the server's `{error, request_id}` body; falls back to the
/// HTTP status and the start of the body for answers that are not in that shape (proxies).
std::string describe_api_error(const api_response& r);

}  // namespace certctl::client
