#include "connectors/targets/javakeystore/javakeystore_target.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <utility>

#include "connectors/targets/common/pem_files.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/pkcs12.hpp"

namespace certctl::connectors {

namespace javakeystore {

namespace {

connector_error fail(connector_errc c, const std::string& id, const std::string& m) {
  return connector_error{c, "target " + id + ": " + m};
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool read_all(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

bool write_all(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  return static_cast<bool>(out) && ::chmod(path.c_str(), 0600) == 0;
}

std::string fingerprint_of(const std::string& pem) {
  auto info = crypto::parse_certificate(pem);
  return info ? info->fingerprint_sha256_hex : std::string();
}

}  // namespace

bool valid_alias(const std::string& alias) {
  return !alias.empty() && alias.size() <= 64 &&
         std::all_of(alias.begin(), alias.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_';
         });
}

config_schema keystore_schema() {
  config_schema s{{
      {"keystore_path", field_type::string, true, false, "absolute path of the keystore file"},
      {"keystore_password", field_type::string, true, true, "keystore (and key) password"},
      {"keystore_type", field_type::string, false, false, "\"PKCS12\" (default) or \"JKS\""},
      {"alias", field_type::string, false, false,
       "key entry alias (default \"server\"; letters, digits, - and _)"},
      {"create_keystore", field_type::boolean, false, false,
       "create the keystore when it does not exist (default true)"},
      {"keytool_path", field_type::string, false, false, "keytool binary (default keytool)"},
  }};
  targets::add_common_fields(s, true, true);
  return s;
}

keystore_target::keystore_target(keystore_config config, targets::file_target_options options)
    : config_(std::move(config)), endpoint_verify_(options.verify.has_value()) {
  targets::file_target_hooks hooks;
  hooks.paths = {config_.keystore_path};
  hooks.layout = [this](const deployment_request& r)
      -> certctl::result<std::vector<targets::file_content>, connector_error> {
    auto bytes = build_keystore(r);
    if (!bytes) return bytes.error();
    return std::vector<targets::file_content>{
        {config_.keystore_path, std::move(*bytes), targets::private_file_mode}};
  };
  hooks.check = [this]() -> certctl::result<done, std::string> {
    if (!exists(config_.keystore_path)) {
      if (config_.create_keystore) return done{};
      return config_.keystore_path + " does not exist and create_keystore is false";
    }
    auto dir = work_dir::create(dir_of(config_.keystore_path), config_.password);
    if (!dir) return dir.error();
    const auto out =
        config_.tool.run({"-list", "-keystore", config_.keystore_path, "-storetype",
                          config_.tool.store_type, "-storepass:file", dir->password_file()});
    if (out.succeeded()) return done{};
    if (says_wrong_password(out.output))
      return "wrong keystore_password for " + config_.keystore_path;
    return "keytool cannot read " + config_.keystore_path + ": " +
           out.describe({config_.tool.program, "-list"});
  };
  inner_ = std::make_unique<targets::file_target>(std::move(options), std::move(hooks));
}

certctl::result<std::string, connector_error> keystore_target::build_keystore(
    const deployment_request& request) const {
  const std::string& id = inner_->id();
  if (auto ok = targets::check_request(id, request, true); !ok) return ok.error();
  auto dir = work_dir::create(dir_of(config_.keystore_path), config_.password);
  if (!dir) return fail(connector_errc::failed, id, dir.error());
  const std::string store = dir->file("keystore");
  const std::string pass = dir->password_file();
  const keytool& tool = config_.tool;

  std::string current;
  if (exists(config_.keystore_path)) {
    if (!read_all(config_.keystore_path, current) || !write_all(store, current))
      return fail(connector_errc::failed, id, "cannot copy " + config_.keystore_path);
    auto held = tool.export_certificate(store, pass, config_.alias);
    if (!held) return fail(held.error().code, id, held.error().message);
    if (held->has_value()) {
      // The alias already holds this certificate: hand back the bytes as they are, so the
      // primitive sees identical files and reports the deployment unchanged.
      if (fingerprint_of(**held) == fingerprint_of(request.cert_pem)) return current;
      const auto del = tool.run({"-delete", "-alias", config_.alias, "-keystore", store,
                                 "-storetype", tool.store_type, "-storepass:file", pass});
      if (!del.succeeded())
        return fail(connector_errc::failed, id,
                    "removing the old entry failed: " + del.describe({tool.program, "-delete"}));
    }
  } else if (!config_.create_keystore) {
    return fail(connector_errc::invalid_config, id,
                config_.keystore_path + " does not exist and create_keystore is false");
  }

  crypto::pkcs12_input in;
  in.private_key_pem = request.key_pem;
  in.certificate_pem = request.cert_pem;
  in.chain_pem = request.chain_pem;
  in.password = config_.password;
  in.friendly_name = config_.alias;
  auto p12 = crypto::export_pkcs12(in);
  if (!p12)
    return fail(connector_errc::invalid_request, id,
                "cannot build the PKCS#12 to import: " + p12.error().message);
  const std::string incoming = dir->file("incoming.p12");
  if (!write_all(incoming, std::string(p12->begin(), p12->end())))
    return fail(connector_errc::failed, id, "cannot write the PKCS#12 to import");
  const auto imported = tool.run({"-importkeystore",     "-noprompt",
                                  "-srckeystore",        incoming,
                                  "-srcstoretype",       "PKCS12",
                                  "-srcstorepass:file",  pass,
                                  "-srcalias",           config_.alias,
                                  "-destkeystore",       store,
                                  "-deststoretype",      tool.store_type,
                                  "-deststorepass:file", pass,
                                  "-destkeypass:file",   pass,
                                  "-destalias",          config_.alias});
  if (!imported.succeeded())
    return fail(connector_errc::failed, id,
                "import failed, the keystore is unchanged: " +
                    imported.describe({tool.program, "-importkeystore"}));
  // The import must have produced the entry the service will look up.
  auto check = tool.export_certificate(store, pass, config_.alias);
  if (!check) return fail(check.error().code, id, check.error().message);
  if (!check->has_value() || fingerprint_of(**check) != fingerprint_of(request.cert_pem))
    return fail(connector_errc::failed, id,
                "after the import, alias " + config_.alias + " does not hold the certificate");
  std::string built;
  if (!read_all(store, built)) return fail(connector_errc::failed, id, "cannot read the result");
  return built;
}

certctl::result<done, connector_error> keystore_target::validate() {
  std::lock_guard<std::mutex> lock(mutex_);
  return inner_->validate();
}

certctl::result<deployment_result, connector_error> keystore_target::deploy(
    const deployment_request& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  return inner_->deploy(request);
}

certctl::result<verification_result, connector_error> keystore_target::verify(
    const verification_request& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (endpoint_verify_) return inner_->verify(request);
  auto dir = work_dir::create(dir_of(config_.keystore_path), config_.password);
  if (!dir) return fail(connector_errc::failed, id(), dir.error());
  auto held =
      config_.tool.export_certificate(config_.keystore_path, dir->password_file(), config_.alias);
  if (!held) return fail(held.error().code, id(), held.error().message);
  verification_result out;
  if (!held->has_value()) {
    out.message = "alias " + config_.alias + " does not exist in " + config_.keystore_path;
    return out;
  }
  auto info = crypto::parse_certificate(**held);
  if (!info) return fail(connector_errc::failed, id(), info.error().message);
  auto norm = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const auto first = s.find_first_not_of('0');
    return first == std::string::npos ? std::string("0") : s.substr(first);
  };
  out.serial_hex = info->serial_hex;
  out.valid = norm(info->serial_hex) == norm(request.serial_hex);
  out.message = "alias " + config_.alias + " in " + config_.keystore_path + " holds serial " +
                info->serial_hex;
  return out;
}

certctl::result<done, connector_error> keystore_target::rollback(const std::string& deployment_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return inner_->rollback(deployment_id);
}

certctl::result<std::shared_ptr<target>, connector_error> make_keystore_target(
    const connector_settings& settings, std::shared_ptr<const net::outbound_guard> guard) {
  const auto& c = settings.config;
  const std::string& id = settings.id;
  auto bad = [&](const std::string& field, const std::string& why) {
    return connector_error{connector_errc::invalid_config,
                           "target " + id + ": config." + field + ": " + why};
  };
  keystore_config k;
  auto path = targets::path_field(id, c, "keystore_path");
  if (!path) return path.error();
  k.keystore_path = *path;
  k.password = c.str("keystore_password");
  if (k.password.size() < 6) return bad("keystore_password", "keytool needs at least 6 characters");
  if (k.password.find_first_of("\r\n") != std::string::npos || k.password.front() == ' ' ||
      k.password.back() == ' ')
    return bad("keystore_password", "must not contain line breaks or edge blanks");
  k.alias = c.str("alias", "server");
  if (!valid_alias(k.alias)) return bad("alias", "letters, digits, - and _ only (1..64)");
  const std::string type = c.str("keystore_type", "PKCS12");
  if (type != "PKCS12" && type != "JKS") return bad("keystore_type", "\"PKCS12\" or \"JKS\"");
  k.tool.store_type = type;
  k.create_keystore = c.boolean("create_keystore", true);
  k.tool.program = c.str("keytool_path", "keytool");
  if (k.tool.program != "keytool") {
    auto p = targets::path_field(id, c, "keytool_path");
    if (!p) return p.error();
  }
  auto options = targets::parse_common_options("JavaKeystore", id, c, "", "", std::move(guard));
  if (!options) return options.error();
  options->location = target_location::agent;
  k.tool.timeout = options->command_timeout;
  return std::shared_ptr<target>(
      std::make_shared<keystore_target>(std::move(k), std::move(*options)));
}

}  // namespace javakeystore

certctl::result<done, std::string> register_javakeystore_target(connector_registry& registry,
                                                                const builtin_context& context) {
  target_registration r;
  r.type = "JavaKeystore";
  r.description =
      "Java keystore (PKCS12 or JKS) via keytool: key entry under an alias, snapshot and "
      "rollback, optional reload";
  r.schema = javakeystore::keystore_schema();
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s) {
    return javakeystore::make_keystore_target(s, guard);
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
