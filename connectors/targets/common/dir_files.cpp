#include "connectors/targets/common/dir_files.hpp"

namespace certctl::connectors::targets {

certctl::result<std::string, connector_error> file_name_field(const std::string& id,
                                                              const events::json_object& config,
                                                              const char* field,
                                                              const std::string& fallback) {
  const std::string name = config.str(field, fallback);
  auto bad = [&](const std::string& why) {
    return connector_error{connector_errc::invalid_config,
                           "target " + id + ": config." + field + ": " + why};
  };
  if (name.empty()) return bad("a file name is required");
  if (name == "." || name == ".." || name.find('/') != std::string::npos)
    return bad("'" + name + "' must be a plain file name inside cert_dir");
  for (const char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return bad("control character");
  return name;
}

}  // namespace certctl::connectors::targets
