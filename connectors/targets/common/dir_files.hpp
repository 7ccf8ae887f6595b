#pragma once
/// Targets that write into one directory a service watches or reads (Traefik, Caddy, Envoy):
/// `cert_dir` plus file names that must be plain names, so a config cannot point a file
/// outside the directory.

#include <string>

#include "connectors/targets/common/file_target.hpp"

namespace certctl::connectors::targets {

/// `config[field]` (or `fallback`) as a plain file name: no '/', not "." or "..", no control
/// characters; the message names the field.
certctl::result<std::string, connector_error> file_name_field(const std::string& id,
                                                              const events::json_object& config,
                                                              const char* field,
                                                              const std::string& fallback);

}  // namespace certctl::connectors::targets
