#include "connectors/targets/mail/mail_target.hpp"

#include <utility>
#include <vector>

#include "connectors/targets/common/file_target.hpp"
#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors {

namespace mail {

namespace {

struct mode_defaults {
  std::string cert_path;
  std::string key_path;
  std::string validate;
  std::string reload;
  crypto::starttls_protocol starttls;
};

mode_defaults defaults_of(mail_mode m) {
  if (m == mail_mode::postfix)
    return {"/etc/postfix/certs/cert.pem", "/etc/postfix/certs/key.pem", "postfix check",
            "postfix reload", crypto::starttls_protocol::smtp};
  return {"/etc/dovecot/certs/cert.pem", "/etc/dovecot/certs/key.pem", "doveconf -n",
          "doveadm reload", crypto::starttls_protocol::none};
}

connector_error bad(const std::string& id, const std::string& field, const std::string& why) {
  return connector_error{connector_errc::invalid_config,
                         "target " + id + ": config." + field + ": " + why};
}

}  // namespace

config_schema mail_target_schema() {
  config_schema s{{
      {"mode", field_type::string, false, false,
       "\"postfix\" or \"dovecot\": picks the default paths and commands"},
      {"cert_path", field_type::string, false, false,
       "certificate file (chain appended unless chain_path is set)"},
      {"key_path", field_type::string, false, false, "private key file, written 0600"},
      {"chain_path", field_type::string, false, false, "chain file; empty = appended to cert"},
  }};
  targets::add_common_fields(s, true, true);
  return s;
}

certctl::result<std::shared_ptr<target>, connector_error> make_mail_target(
    const std::string& type, mail_mode default_mode, const connector_settings& settings,
    std::shared_ptr<const net::outbound_guard> guard) {
  const auto& config = settings.config;
  const std::string& id = settings.id;
  mail_mode mode = default_mode;
  if (config.has("mode")) {
    const std::string m = config.str("mode");
    if (m == "postfix")
      mode = mail_mode::postfix;
    else if (m == "dovecot")
      mode = mail_mode::dovecot;
    else
      return bad(id, "mode", "must be \"postfix\" or \"dovecot\"");
  }
  const mode_defaults d = defaults_of(mode);
  // post_deploy_verify.starttls: "smtp" or "imap" (read by the common parser), "none" for
  // implicit TLS (port 465 or 993), absent: the mode's dialect.
  events::json_object effective = config;
  bool explicit_dialect = false;
  bool implicit_tls = false;
  if (config.is_object("post_deploy_verify")) {
    auto v = events::json_object::parse(config.raw("post_deploy_verify"));
    if (v && v->has("starttls")) {
      explicit_dialect = true;
      if (v->is_string("starttls") && v->str("starttls") == "none") {
        implicit_tls = true;
        v->remove("starttls");
        effective.set_raw("post_deploy_verify", v->dump());
      }
    }
  }
  auto options =
      targets::parse_common_options(type, id, effective, d.validate, d.reload, std::move(guard));
  if (!options) return options.error();
  if (options->verify && !explicit_dialect) options->verify->starttls = d.starttls;
  if (options->verify && implicit_tls) options->verify->starttls = crypto::starttls_protocol::none;
  auto cert_path = targets::path_field(id, config, "cert_path", d.cert_path);
  if (!cert_path) return cert_path.error();
  auto key_path = targets::path_field(id, config, "key_path", d.key_path);
  if (!key_path) return key_path.error();
  std::string chain_path;
  if (!config.str("chain_path").empty()) {
    auto p = targets::path_field(id, config, "chain_path");
    if (!p) return p.error();
    chain_path = *p;
  }
  if (*cert_path == *key_path || *cert_path == chain_path || *key_path == chain_path)
    return bad(id, "key_path", "cert_path, key_path and chain_path must be different files");

  targets::file_target_hooks hooks;
  hooks.paths = {*cert_path, *key_path};
  if (!chain_path.empty()) hooks.paths.push_back(chain_path);
  hooks.leaf_path = *cert_path;
  hooks.layout = [id, cert = *cert_path, key = *key_path,
                  chain = chain_path](const deployment_request& r)
      -> certctl::result<std::vector<targets::file_content>, connector_error> {
    if (auto ok = targets::check_request(id, r, true); !ok) return ok.error();
    std::vector<targets::file_content> files;
    if (chain.empty()) {
      files.push_back({cert, targets::leaf_and_chain(r), targets::public_file_mode});
    } else {
      deployment_request leaf_only = r;
      leaf_only.chain_pem.clear();
      files.push_back({cert, targets::leaf_and_chain(leaf_only), targets::public_file_mode});
      files.push_back({chain, r.chain_pem, targets::public_file_mode});
    }
    files.push_back({key, r.key_pem, targets::private_file_mode});
    return files;
  };
  options->location = target_location::agent;
  return std::shared_ptr<target>(
      std::make_shared<targets::file_target>(std::move(*options), std::move(hooks)));
}

}  // namespace mail

namespace {

certctl::result<done, std::string> register_mail(connector_registry& registry,
                                                 const builtin_context& context,
                                                 const std::string& type, mail::mail_mode mode,
                                                 const std::string& description) {
  target_registration r;
  r.type = type;
  r.description = description;
  r.schema = mail::mail_target_schema();
  auto guard = targets::guard_of(context.outbound);
  r.make = [type, mode, guard](const connector_settings& s) {
    return mail::make_mail_target(type, mode, s, guard);
  };
  return registry.add(std::move(r));
}

}  // namespace

certctl::result<done, std::string> register_postfix_target(connector_registry& registry,
                                                           const builtin_context& context) {
  return register_mail(registry, context, "Postfix", mail::mail_mode::postfix,
                       "Postfix MTA: cert/chain/key files, postfix check, postfix reload, "
                       "SMTP STARTTLS check");
}

certctl::result<done, std::string> register_dovecot_target(connector_registry& registry,
                                                           const builtin_context& context) {
  return register_mail(registry, context, "Dovecot", mail::mail_mode::dovecot,
                       "Dovecot IMAP/POP3: cert/chain/key files, doveconf -n, doveadm reload, "
                       "IMAPS check");
}

}  // namespace certctl::connectors
