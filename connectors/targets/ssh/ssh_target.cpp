#include "connectors/targets/ssh/ssh_target.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "connectors/targets/common/file_target.hpp"
#include "connectors/targets/ssh/remote_safety.hpp"
#include "connectors/targets/ssh/ssh_client.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/random.hpp"

namespace certctl::connectors::ssh {

namespace {

constexpr const char* backup_tag = ".certctl-bak.";
constexpr const char* temp_tag = ".certctl-tmp.";
constexpr const char* absent_suffix = ".absent";
constexpr std::size_t max_file = 1024 * 1024;

connector_error fail(connector_errc c, std::string m) {
  return connector_error{c, std::move(m)};
}

struct planned_file {
  std::string path;
  std::string bytes;
  int mode = 0644;
};

std::vector<planned_file> plan(const ssh_target_config& c, const deployment_request& r) {
  std::vector<planned_file> files;
  std::string cert = r.cert_pem;
  if (!cert.empty() && cert.back() != '\n') cert += '\n';
  if (c.chain_path.empty()) {
    files.push_back({c.cert_path, cert + r.chain_pem, c.cert_mode});
  } else {
    files.push_back({c.cert_path, cert, c.cert_mode});
    files.push_back({c.chain_path, r.chain_pem, c.cert_mode});
  }
  files.push_back({c.key_path, r.key_pem, c.key_mode});
  return files;
}

std::vector<std::string> managed_paths(const ssh_target_config& c) {
  std::vector<std::string> p{c.cert_path};
  if (!c.chain_path.empty()) p.push_back(c.chain_path);
  p.push_back(c.key_path);
  return p;
}

std::pair<std::string, std::string> split_path(const std::string& path) {
  const auto slash = path.rfind('/');
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

/// "<16 digits of microseconds>-<8 hex>": sorts by time, so pruning keeps the newest.
std::string new_deployment_id(const infra::clock& clock) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016lld", static_cast<long long>(clock.now()));
  return std::string(buf) + "-" + crypto::random_hex(4);
}

bool valid_deployment_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char ch) {
    return std::isxdigit(static_cast<unsigned char>(ch)) != 0 || ch == '-';
  });
}

std::string normalise_serial(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  s.erase(std::remove(s.begin(), s.end(), ':'), s.end());
  const auto first = s.find_first_not_of('0');
  return first == std::string::npos ? "0" : s.substr(first);
}

std::string with_output(std::string message, const remote_output& out) {
  message += " (exit status " + std::to_string(out.exit_status) + ")";
  if (!out.output.empty()) message += ": " + out.output;
  return message;
}

/// Puts back every file deployment `id` backed up: a backup is renamed over its file (the
/// backup bytes are first copied so the backup itself survives for a later rollback), an
/// ".absent" marker removes a file the deployment created.
certctl::result<done, connector_error> restore(ssh_client& ssh, const ssh_target_config& c,
                                               const std::string& id) {
  std::string problems;
  auto note = [&](const std::string& m) { problems += (problems.empty() ? "" : "; ") + m; };
  for (const auto& path : managed_paths(c)) {
    const std::string backup = path + backup_tag + id;
    auto saved = ssh.read_file(backup, max_file);
    if (!saved) {
      note(saved.error().message);
      continue;
    }
    if (saved->has_value()) {
      const int mode = path == c.key_path ? c.key_mode : c.cert_mode;
      const std::string temp = path + temp_tag + id + ".restore";
      auto w = ssh.write_file(temp, **saved, mode);
      if (w) w = ssh.rename(temp, path);
      if (!w) note(w.error().message);
      continue;
    }
    auto marker = ssh.read_file(backup + absent_suffix, 0);
    if (marker && marker->has_value()) {
      if (auto rm = ssh.remove(path); !rm) note(rm.error().message);
      continue;
    }
    note("no backup of " + path + " for deployment " + id);
  }
  if (!problems.empty()) return fail(connector_errc::failed, "restore incomplete: " + problems);
  return done{};
}

/// Keeps the newest `keep` backup generations of each managed file.
void prune_backups(ssh_client& ssh, const ssh_target_config& c, int keep) {
  std::map<std::string, std::vector<std::string>> by_dir;
  for (const auto& path : managed_paths(c)) by_dir[split_path(path).first].push_back(path);
  for (const auto& [dir, paths] : by_dir) {
    auto names = ssh.list_dir(dir);
    if (!names) continue;  // pruning is housekeeping: a failure must not fail the deployment
    for (const auto& path : paths) {
      const std::string prefix = split_path(path).second + backup_tag;
      std::vector<std::string> ids;
      for (const auto& n : *names) {
        if (n.rfind(prefix, 0) != 0) continue;
        std::string id = n.substr(prefix.size());
        const auto dot = id.find('.');
        if (dot != std::string::npos) id.resize(dot);
        if (valid_deployment_id(id) && std::find(ids.begin(), ids.end(), id) == ids.end())
          ids.push_back(id);
      }
      std::sort(ids.begin(), ids.end());
      for (std::size_t i = 0; i + static_cast<std::size_t>(keep) < ids.size(); ++i) {
        const std::string base = (dir == "/" ? "" : dir) + "/" + prefix + ids[i];
        (void)ssh.remove(base);
        (void)ssh.remove(base + absent_suffix);
      }
    }
  }
}

std::string journal_of(const ssh_target_config& c) {
  return c.cert_path + ".certctl-journal";
}

/// A deployment that died between its first rename and its end (the agent was killed, the
/// link dropped) left its journal: put every file back from that deployment's backups and
/// reload, so the host serves the old set again, never a mix. "" when there was nothing to do.
certctl::result<std::string, connector_error> recover(ssh_client& ssh, const ssh_target_config& c) {
  auto journal = ssh.read_file(journal_of(c), 256);
  if (!journal) return journal.error();
  if (!journal->has_value()) return std::string();
  std::string id = **journal;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  if (!valid_deployment_id(id))
    return fail(connector_errc::failed,
                "the journal " + journal_of(c) + " is unreadable; restore the files by hand");
  if (auto r = restore(ssh, c, id); !r)
    return fail(r.error().code,
                "recovering interrupted deployment " + id + ": " + r.error().message);
  if (!c.reload_command.empty()) {
    auto again = ssh.run(c.reload_command);
    if (!again) return again.error();
    if (again->exit_status != 0)
      return fail(
          connector_errc::failed,
          with_output("recovering interrupted deployment " + id + ": reload failed", *again));
  }
  if (auto rm = ssh.remove(journal_of(c)); !rm) return rm.error();
  return id;
}

}  // namespace

ssh_target::ssh_target(std::string id, ssh_target_config config, net::outbound_guard guard,
                       std::shared_ptr<const infra::clock> clock)
    : id_(std::move(id)),
      config_(std::move(config)),
      guard_(std::move(guard)),
      clock_(std::move(clock)) {}

certctl::result<done, connector_error> ssh_target::validate() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto ssh = ssh_client::connect(config_, guard_);
  if (!ssh) return ssh.error();
  for (const auto& path : managed_paths(config_)) {
    const std::string dir = split_path(path).first;
    if (auto listed = (*ssh)->list_dir(dir); !listed)
      return fail(connector_errc::invalid_config,
                  "target " + id_ + ": remote directory " + dir +
                      " is not readable: " + listed.error().message);
  }
  return done{};
}

certctl::result<deployment_result, connector_error> ssh_target::deploy(
    const deployment_request& request) {
  // Certificate present, key present and belonging to it: checked before anything is sent.
  if (auto ok = targets::check_request(id_, request, true); !ok) return ok.error();
  if (config_.chain_path.empty() == false && request.chain_pem.empty())
    return fail(connector_errc::invalid_request,
                "target " + id_ + ": chain_path is set but the request has no chain");
  std::lock_guard<std::mutex> lock(mutex_);
  auto connected = ssh_client::connect(config_, guard_);
  if (!connected) return connected.error();
  ssh_client& ssh = **connected;
  auto recovered = recover(ssh, config_);
  if (!recovered) return recovered.error();
  const std::string recovered_note =
      recovered->empty() ? "" : "; interrupted deployment " + *recovered + " was rolled back first";
  const auto files = plan(config_, request);

  std::vector<std::optional<std::string>> current;
  bool identical = true;
  for (const auto& f : files) {
    auto now = ssh.read_file(f.path, max_file);
    if (!now) return now.error();
    identical = identical && now->has_value() && **now == f.bytes;
    current.push_back(std::move(*now));
  }
  deployment_result result;
  result.deployed_at_us = clock_->now();
  if (identical) {
    result.unchanged = true;
    result.message = "the target already holds these files; nothing written" + recovered_note;
    return result;
  }

  const std::string id = new_deployment_id(*clock_);
  // Backups and uploads go next to their files, so every rename stays on one filesystem.
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string backup = files[i].path + backup_tag + id;
    auto b = current[i] ? ssh.write_file(backup, *current[i], 0600)
                        : ssh.write_file(backup + absent_suffix, "", 0600);
    if (!b) return fail(b.error().code, "backup failed, nothing changed: " + b.error().message);
  }
  for (const auto& f : files) {
    if (auto w = ssh.write_file(f.path + temp_tag + id, f.bytes, f.mode); !w) {
      for (const auto& g : files) (void)ssh.remove(g.path + temp_tag + id);
      return fail(w.error().code, "upload failed, nothing changed: " + w.error().message);
    }
  }
  // From the first rename on, the journal names this deployment until it ends either way.
  if (auto j = ssh.write_file(journal_of(config_), id + "\n", 0600); !j) {
    for (const auto& g : files) (void)ssh.remove(g.path + temp_tag + id);
    return fail(j.error().code, "cannot write the journal, nothing changed: " + j.error().message);
  }
  for (const auto& f : files) {
    if (auto r = ssh.rename(f.path + temp_tag + id, f.path); !r) {
      auto undone = restore(ssh, config_, id);
      for (const auto& g : files) (void)ssh.remove(g.path + temp_tag + id);
      if (undone) (void)ssh.remove(journal_of(config_));
      return fail(r.error().code, r.error().message + (undone ? "; previous files restored"
                                                              : "; " + undone.error().message));
    }
  }

  auto undo = [&](connector_error why, bool reload_again) -> connector_error {
    auto undone = restore(ssh, config_, id);
    // A failed restore keeps the journal: the next deployment retries it first.
    if (!undone) return fail(why.code, why.message + "; " + undone.error().message);
    (void)ssh.remove(journal_of(config_));
    if (reload_again && !config_.reload_command.empty()) {
      auto again = ssh.run(config_.reload_command);
      if (!again || again->exit_status != 0)
        return fail(why.code, why.message +
                                  "; previous files restored but the reload after "
                                  "restoring failed too");
    }
    return fail(why.code, why.message + "; previous files restored");
  };
  if (!config_.validate_command.empty()) {
    auto v = ssh.run(config_.validate_command);
    if (!v) return undo(v.error(), false);
    if (v->exit_status != 0)
      return undo(
          fail(connector_errc::failed,
               with_output("validate_command '" + config_.validate_command + "' failed", *v)),
          false);
  }
  if (!config_.reload_command.empty()) {
    auto r = ssh.run(config_.reload_command);
    if (!r) return undo(r.error(), true);
    if (r->exit_status != 0)
      return undo(fail(connector_errc::failed,
                       with_output("reload_command '" + config_.reload_command + "' failed", *r)),
                  true);
  }
  if (config_.verify) {
    const auto leaf = crypto::parse_certificate(request.cert_pem);
    auto served = targets::wait_until_served(guard_, *config_.verify,
                                             leaf ? leaf->fingerprint_sha256_hex : "");
    if (!served)
      return undo(fail(connector_errc::failed, "verification failed: " + served.error()), true);
  }
  if (auto done_ = ssh.remove(journal_of(config_)); !done_)
    return fail(done_.error().code,
                "deployed, but removing the journal failed: " + done_.error().message);
  prune_backups(ssh, config_, config_.backups);
  result.deployment_id = id;
  result.message =
      "deployed " + std::to_string(files.size()) + " files to " + config_.host + recovered_note;
  return result;
}

certctl::result<verification_result, connector_error> ssh_target::verify(
    const verification_request& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (config_.verify) {
    verification_result v;
    auto got = targets::probe_endpoint(guard_, *config_.verify);
    if (!got) return fail(connector_errc::unavailable, "target " + id_ + ": " + got.error());
    v.serial_hex = got->serial_hex;
    v.valid = normalise_serial(got->serial_hex) == normalise_serial(request.serial_hex);
    v.message = "served at " + config_.verify->host + ":" + std::to_string(config_.verify->port) +
                ": serial " + got->serial_hex;
    return v;
  }
  auto ssh = ssh_client::connect(config_, guard_);
  if (!ssh) return ssh.error();
  auto pem = (*ssh)->read_file(config_.cert_path, max_file);
  if (!pem) return pem.error();
  verification_result v;
  if (!pem->has_value()) {
    v.message = config_.cert_path + " does not exist";
    return v;
  }
  auto info = crypto::parse_certificate(**pem);
  if (!info) {
    v.message = config_.cert_path + " holds no readable certificate";
    return v;
  }
  v.serial_hex = info->serial_hex;
  v.valid = normalise_serial(info->serial_hex) == normalise_serial(request.serial_hex);
  v.message = v.valid ? "remote certificate file holds serial " + info->serial_hex
                      : "remote certificate file holds serial " + info->serial_hex + ", expected " +
                            request.serial_hex;
  return v;
}

certctl::result<done, connector_error> ssh_target::rollback(const std::string& deployment_id) {
  if (!valid_deployment_id(deployment_id))
    return fail(connector_errc::invalid_request, "not a deployment id of this target");
  std::lock_guard<std::mutex> lock(mutex_);
  auto ssh = ssh_client::connect(config_, guard_);
  if (!ssh) return ssh.error();
  if (auto recovered = recover(**ssh, config_); !recovered) return recovered.error();
  if (auto r = restore(**ssh, config_, deployment_id); !r) return r.error();
  if (!config_.reload_command.empty()) {
    auto r = (*ssh)->run(config_.reload_command);
    if (!r) return r.error();
    if (r->exit_status != 0)
      return fail(connector_errc::failed, with_output("files restored; reload_command failed", *r));
  }
  return done{};
}

}  // namespace certctl::connectors::ssh
