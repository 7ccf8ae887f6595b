#include "connectors/targets/common/file_target.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "connectors/targets/common/command.hpp"
#include "connectors/targets/common/target_lock.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::connectors::targets {
namespace {

connector_error err(connector_errc c, const std::string& id, const std::string& message) {
  return connector_error{c, "target " + id + ": " + message};
}

/// Unix nanoseconds, strictly increasing within the process: names backups and deployments.
std::string next_stamp() {
  static std::atomic<std::int64_t> last{0};
  std::int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  std::int64_t prev = last.load();
  for (;;) {
    const std::int64_t next = std::max(now, prev + 1);
    if (last.compare_exchange_weak(prev, next)) return std::to_string(next);
  }
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string dir_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

/// A serial compared as hex digits, case and leading zeros ignored.
std::string normal_serial(const std::string& s) {
  std::string out = lower(s);
  out.erase(std::remove(out.begin(), out.end(), ':'), out.end());
  const auto first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : out.substr(first);
}

std::string lock_path_of(const file_target_hooks& hooks, const std::string& id) {
  std::string safe;
  for (const char c : id)
    safe.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return dir_of(hooks.paths.front()) + "/.certctl-" + safe + ".lock";
}

}  // namespace

file_target::file_target(file_target_options options, file_target_hooks hooks)
    : options_(std::move(options)), hooks_(std::move(hooks)) {
  if (!options_.guard) options_.guard = std::make_shared<net::outbound_guard>();
}

certctl::result<done, std::string> file_target::run_validate() const {
  if (options_.validate_argv.empty()) return done{};
  auto out = run_command(options_.validate_argv, options_.command_timeout);
  if (!out.succeeded()) return "validation failed: " + out.describe(options_.validate_argv);
  return done{};
}

certctl::result<done, std::string> file_target::run_reload() const {
  if (hooks_.reload) {
    if (auto r = hooks_.reload(); !r) return "reload failed: " + r.error();
    return done{};
  }
  if (options_.reload_argv.empty()) return done{};
  auto out = run_command(options_.reload_argv, options_.command_timeout);
  if (!out.succeeded()) return "reload failed: " + out.describe(options_.reload_argv);
  return done{};
}

certctl::result<done, connector_error> file_target::validate() {
  for (const auto& p : hooks_.paths) {
    if (auto ok = check_target_path(p); !ok)
      return err(connector_errc::invalid_config, options_.id, ok.error());
    const std::string dir = dir_of(p);
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
      return err(connector_errc::invalid_config, options_.id,
                 "directory " + dir + " does not exist or is not writable");
  }
  if (auto v = run_validate(); !v) return err(connector_errc::failed, options_.id, v.error());
  if (hooks_.check)
    if (auto c = hooks_.check(); !c) return err(connector_errc::failed, options_.id, c.error());
  return done{};
}

certctl::result<deployment_result, connector_error> file_target::deploy(
    const deployment_request& request) {
  auto leaf = crypto::parse_certificate(request.cert_pem);
  if (!leaf)
    return err(connector_errc::invalid_request, options_.id,
               "the certificate cannot be read: " + leaf.error().message);
  auto files = hooks_.layout(request);
  if (!files) return files.error();
  for (const auto& f : *files)
    if (auto ok = check_target_path(f.path); !ok)
      return err(connector_errc::invalid_config, options_.id, ok.error());

  auto lock = target_lock::acquire(options_.id, lock_path_of(hooks_, options_.id));
  if (!lock) return err(connector_errc::failed, options_.id, lock.error());
  file_set set(options_.id, options_.keep_backups);
  set.after_rename = after_rename;
  auto recovered = set.recover(*files);
  if (!recovered) return err(connector_errc::failed, options_.id, recovered.error());
  const std::string& fingerprint = leaf->fingerprint_sha256_hex;

  if (files_identical(*files)) {
    // Nothing to write. The service may still hold older files in memory (a crash was just
    // repaired, or someone skipped a reload): reload only when it does not serve these.
    bool serving = !*recovered && !options_.verify;
    if (options_.verify && !*recovered) {
      auto now = probe_endpoint(*options_.guard, *options_.verify);
      serving = now && now->fingerprint_sha256_hex == fingerprint;
    }
    if (!serving) {
      if (auto r = run_reload(); !r) return err(connector_errc::failed, options_.id, r.error());
      if (options_.verify)
        if (auto w = wait_until_served(*options_.guard, *options_.verify, fingerprint); !w)
          return err(connector_errc::failed, options_.id, w.error());
    }
    deployment_result out;
    out.unchanged = true;
    out.deployed_at_us = now_us();
    out.message = "the target already holds this certificate; nothing written";
    return out;
  }

  // Each step is timed and told to request.on_step (the job's step events).
  using step_clock = std::chrono::steady_clock;
  auto step_start = step_clock::now();
  auto step = [&](const char* name, bool ok, const std::string& output) {
    const auto end = step_clock::now();
    if (request.on_step)
      request.on_step(
          {name, ok,
           std::chrono::duration_cast<std::chrono::milliseconds>(end - step_start).count(),
           output});
    step_start = end;
  };
  const std::string stamp = next_stamp();
  if (auto b = set.begin(*files, stamp); !b) {
    step("write", false, b.error());
    return err(connector_errc::failed, options_.id, "writing the files failed: " + b.error());
  }
  std::string written;
  for (const auto& f : *files) written += (written.empty() ? "" : ", ") + f.path;
  step("write", true, "wrote " + written);

  // From here every failure puts the old files back and makes the service read them again.
  auto undo = [&](const std::string& why, bool reload) -> connector_error {
    step_start = step_clock::now();
    std::string message = why;
    if (auto back = set.roll_back(); !back)
      message += "; ROLLBACK FAILED: " + back.error();
    else
      message += "; the previous files were restored";
    bool undone = message.find("ROLLBACK FAILED") == std::string::npos;
    if (reload) {
      if (auto r = run_reload(); !r) {
        message += "; reloading them failed too: " + r.error();
        undone = false;
      } else if (auto back = confirm_restored(); !back) {
        message += "; " + back.error();
        undone = false;
      }
    }
    step("rollback", undone, message.substr(why.size() < message.size() ? why.size() + 2 : 0));
    return err(connector_errc::failed, options_.id, message);
  };
  // The service has not read the new files yet, so a failed validation needs no reload.
  if (auto v = run_validate(); !v) {
    step("validate", false, v.error());
    return undo(v.error(), false);
  }
  step("validate", true, options_.validate_argv.empty() ? "no validate command" : "passed");
  if (auto r = run_reload(); !r) {
    step("reload", false, r.error());
    return undo(r.error(), true);
  }
  step("reload", true,
       hooks_.reload || !options_.reload_argv.empty() ? "reloaded" : "no reload step configured");
  if (options_.verify) {
    if (auto w = wait_until_served(*options_.guard, *options_.verify, fingerprint); !w) {
      step("verify", false, w.error());
      return undo("verification failed: " + w.error(), true);
    }
    step("verify", true, "the endpoint serves SHA-256 " + fingerprint);
  }
  if (auto c = set.commit(); !c)
    return err(connector_errc::internal, options_.id,
               "deployed, but finishing the journal failed: " + c.error());

  deployment_result out;
  out.deployment_id = stamp;
  out.deployed_at_us = now_us();
  std::string paths;
  for (const auto& f : *files) paths += (paths.empty() ? "" : ", ") + f.path;
  out.message = "wrote " + paths + (options_.verify ? "; the endpoint serves it" : "");
  return out;
}

certctl::result<verification_result, connector_error> file_target::verify(
    const verification_request& request) {
  verification_result out;
  if (options_.verify) {
    auto got = probe_endpoint(*options_.guard, *options_.verify);
    if (!got) return err(connector_errc::unavailable, options_.id, got.error());
    out.serial_hex = got->serial_hex;
    out.message =
        "served at " + options_.verify->host + ":" + std::to_string(options_.verify->port);
  } else {
    std::string pem;
    if (hooks_.leaf_path.empty() || !read_file(hooks_.leaf_path, pem))
      return err(connector_errc::failed, options_.id,
                 "cannot read " + hooks_.leaf_path + " and no post_deploy_verify endpoint is set");
    auto info = crypto::parse_certificate(pem);
    if (!info) return err(connector_errc::failed, options_.id, info.error().message);
    out.serial_hex = info->serial_hex;
    out.message = "read from " + hooks_.leaf_path + " (no post_deploy_verify endpoint is set)";
  }
  out.valid = normal_serial(out.serial_hex) == normal_serial(request.serial_hex);
  return out;
}

certctl::result<done, connector_error> file_target::rollback(const std::string& deployment_id) {
  if (deployment_id.empty() || deployment_id.find_first_not_of("0123456789") != std::string::npos)
    return err(connector_errc::invalid_request, options_.id,
               "unknown deployment id '" + deployment_id + "'");
  auto lock = target_lock::acquire(options_.id, lock_path_of(hooks_, options_.id));
  if (!lock) return err(connector_errc::failed, options_.id, lock.error());
  file_set set(options_.id, options_.keep_backups);
  if (auto r = set.restore(hooks_.paths, deployment_id); !r)
    return err(connector_errc::failed, options_.id, r.error());
  if (auto v = run_validate(); !v) return err(connector_errc::failed, options_.id, v.error());
  if (auto r = run_reload(); !r) return err(connector_errc::failed, options_.id, r.error());
  if (auto back = confirm_restored(); !back)
    return err(connector_errc::failed, options_.id, back.error());
  return done{};
}

certctl::result<done, std::string> file_target::confirm_restored() const {
  if (!options_.verify || hooks_.leaf_path.empty()) return done{};
  std::string pem;
  if (!read_file(hooks_.leaf_path, pem)) return done{};  // nothing was there before
  auto info = crypto::parse_certificate(pem);
  if (!info) return done{};  // not a certificate the endpoint could serve either
  auto w = wait_until_served(*options_.guard, *options_.verify, info->fingerprint_sha256_hex);
  if (!w) return "the restored certificate is not confirmed served: " + w.error();
  return done{};
}

std::string pem_text(std::string pem) {
  if (!pem.empty() && pem.back() != '\n') pem += '\n';
  return pem;
}

std::string leaf_and_chain(const deployment_request& request) {
  return pem_text(request.cert_pem) + pem_text(request.chain_pem);
}

certctl::result<done, connector_error> check_request(const std::string& id,
                                                     const deployment_request& request,
                                                     bool needs_key) {
  if (request.cert_pem.empty())
    return err(connector_errc::invalid_request, id, "the request carries no certificate");
  if (!needs_key) return done{};
  if (request.key_pem.empty())
    return err(connector_errc::invalid_request, id,
               "the request carries no private key (the agent adds it from its key store)");
  // Checked before anything is written: some daemons' validators do not load keys (apache2 -t)
  // and a graceful restart with a wrong key stops the server instead of keeping the old one.
  if (auto match = crypto::check_key_matches_certificate(request.key_pem, request.cert_pem); !match)
    return err(connector_errc::invalid_request, id,
               "the private key does not belong to the certificate; nothing was written");
  return done{};
}

}  // namespace certctl::connectors::targets
