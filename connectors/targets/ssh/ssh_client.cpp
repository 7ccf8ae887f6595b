#include "connectors/targets/ssh/ssh_client.hpp"

#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include "connectors/targets/ssh/remote_safety.hpp"

namespace certctl::connectors::ssh {

namespace {

connector_error err(connector_errc c, std::string m) {
  return connector_error{c, std::move(m)};
}

struct session_deleter {
  void operator()(ssh_session s) const {
    if (ssh_is_connected(s) != 0) ssh_disconnect(s);
    ssh_free(s);
  }
};
struct sftp_deleter {
  void operator()(sftp_session s) const { sftp_free(s); }
};
struct key_deleter {
  void operator()(ssh_key k) const { ssh_key_free(k); }
};
struct channel_deleter {
  void operator()(ssh_channel c) const {
    ssh_channel_close(c);
    ssh_channel_free(c);
  }
};
struct file_deleter {
  void operator()(sftp_file f) const { sftp_close(f); }
};

using session_ptr = std::unique_ptr<ssh_session_struct, session_deleter>;
using sftp_ptr = std::unique_ptr<sftp_session_struct, sftp_deleter>;
using key_ptr = std::unique_ptr<ssh_key_struct, key_deleter>;
using channel_ptr = std::unique_ptr<ssh_channel_struct, channel_deleter>;
using file_ptr = std::unique_ptr<sftp_file_struct, file_deleter>;

/// "SHA256:..." of the server's host key, for messages; "" when unavailable.
std::string host_key_fingerprint(ssh_session s) {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(s, &raw) != SSH_OK) return "";
  key_ptr key(raw);
  unsigned char* hash = nullptr;
  size_t len = 0;
  if (ssh_get_publickey_hash(key.get(), SSH_PUBLICKEY_HASH_SHA256, &hash, &len) != 0) return "";
  char* text = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
  ssh_clean_pubkey_hash(&hash);
  if (text == nullptr) return "";
  std::string out(text);
  ssh_string_free_char(text);
  return out;
}

std::string bare_host(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

struct ssh_client::impl {
  session_ptr session;
  sftp_ptr sftp;
  std::string where;  ///< user@host:port, for messages
  std::chrono::seconds timeout{30};

  connector_error sftp_failure(const std::string& what, const std::string& path) const {
    return err(connector_errc::failed, "ssh " + where + ": " + what + " " + path +
                                           " failed (sftp status " +
                                           std::to_string(sftp_get_error(sftp.get())) +
                                           "): " + ssh_get_error(session.get()));
  }

  certctl::result<done, connector_error> open_sftp() {
    if (sftp) return done{};
    sftp_ptr s(sftp_new(session.get()));
    if (!s || sftp_init(s.get()) != SSH_OK)
      return err(connector_errc::failed,
                 "ssh " + where + ": SFTP subsystem unavailable: " + ssh_get_error(session.get()));
    sftp = std::move(s);
    return done{};
  }
};

ssh_client::ssh_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ssh_client::~ssh_client() = default;

certctl::result<std::unique_ptr<ssh_client>, connector_error> ssh_client::connect(
    const ssh_target_config& config, const net::outbound_guard& guard) {
  auto p = std::make_unique<impl>();
  p->timeout = config.timeout;
  p->where = config.user + "@" + config.host + ":" + std::to_string(config.port);
  net::outbound_limits limits;
  limits.connect_timeout = config.timeout;
  limits.io_timeout = config.timeout;
  auto tcp = guard.connect(config.host, config.port, limits);
  if (!tcp)
    return err(tcp.error().code == net::outbound_errc::refused_address
                   ? connector_errc::invalid_config
                   : connector_errc::unavailable,
               "ssh " + p->where + ": " + tcp.error().log_line());

  p->session.reset(ssh_new());
  if (!p->session) return err(connector_errc::internal, "ssh: cannot allocate a session");
  ssh_session s = p->session.get();
  // libssh owns (and closes) the descriptor it is given; the guard's connection keeps its own.
  socket_t fd = ::fcntl(tcp->fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return err(connector_errc::internal, "ssh: cannot duplicate the socket");
  const std::string host = bare_host(config.host);
  const unsigned int port = static_cast<unsigned int>(config.port);
  const long timeout_s = static_cast<long>(config.timeout.count());
  const bool no_config = false;
  const int verbosity = SSH_LOG_NOLOG;
  if (ssh_options_set(s, SSH_OPTIONS_FD, &fd) != SSH_OK) {
    ::close(fd);
    return err(connector_errc::internal, "ssh: cannot hand the socket to libssh");
  }
  if (ssh_options_set(s, SSH_OPTIONS_HOST, host.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_PORT, &port) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_USER, config.user.c_str()) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no_config) != SSH_OK ||
      ssh_options_set(s, SSH_OPTIONS_LOG_VERBOSITY, &verbosity) != SSH_OK)
    return err(connector_errc::invalid_config, "ssh " + p->where + ": " + ssh_get_error(s));
  if (!config.known_hosts_path.empty()) {
    // Only the configured file: the global one must not widen what is trusted.
    if (ssh_options_set(s, SSH_OPTIONS_KNOWNHOSTS, config.known_hosts_path.c_str()) != SSH_OK ||
        ssh_options_set(s, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, config.known_hosts_path.c_str()) !=
            SSH_OK)
      return err(connector_errc::invalid_config, "ssh " + p->where + ": " + ssh_get_error(s));
  }
  if (ssh_connect(s) != SSH_OK)
    return err(connector_errc::unavailable,
               "ssh " + p->where + ": handshake failed: " + ssh_get_error(s));

  if (!config.insecure_skip_host_key_verify) {
    const std::string fp = host_key_fingerprint(s);
    const std::string file =
        config.known_hosts_path.empty() ? "the default known_hosts files" : config.known_hosts_path;
    switch (ssh_session_is_known_server(s)) {
      case SSH_KNOWN_HOSTS_OK:
        break;
      case SSH_KNOWN_HOSTS_CHANGED:
      case SSH_KNOWN_HOSTS_OTHER:
        return err(connector_errc::failed, "ssh " + p->where + ": host key " + fp +
                                               " does not match the key in " + file +
                                               " (possible man-in-the-middle); nothing was sent");
      case SSH_KNOWN_HOSTS_UNKNOWN:
      case SSH_KNOWN_HOSTS_NOT_FOUND:
        return err(connector_errc::failed, "ssh " + p->where + ": host key " + fp + " is not in " +
                                               file +
                                               "; add it (ssh-keyscan, checked out of band) or "
                                               "set insecure_skip_host_key_verify");
      case SSH_KNOWN_HOSTS_ERROR:
      default:
        return err(connector_errc::invalid_config, "ssh " + p->where +
                                                       ": cannot check the host key against " +
                                                       file + ": " + ssh_get_error(s));
    }
  }

  int rc = SSH_AUTH_ERROR;
  if (config.auth == auth_method::password) {
    rc = ssh_userauth_password(s, nullptr, config.password.c_str());
  } else {
    ssh_key raw = nullptr;
    const char* pass = config.passphrase.empty() ? nullptr : config.passphrase.c_str();
    const int imported = config.private_key.empty()
                             ? ssh_pki_import_privkey_file(config.private_key_path.c_str(), pass,
                                                           nullptr, nullptr, &raw)
                             : ssh_pki_import_privkey_base64(config.private_key.c_str(), pass,
                                                             nullptr, nullptr, &raw);
    if (imported != SSH_OK)
      return err(connector_errc::invalid_config,
                 "ssh " + p->where + ": cannot read the private key " +
                     (config.private_key.empty() ? config.private_key_path
                                                 : std::string("(inline private_key)")) +
                     " (wrong passphrase, unsupported format or unreadable file)");
    key_ptr key(raw);
    rc = ssh_userauth_publickey(s, nullptr, key.get());
  }
  if (rc != SSH_AUTH_SUCCESS)
    return err(rc == SSH_AUTH_ERROR ? connector_errc::unavailable : connector_errc::failed,
               "ssh " + p->where + ": " +
                   (config.auth == auth_method::password ? "password" : "public key") +
                   " authentication refused" +
                   (rc == SSH_AUTH_ERROR ? std::string(": ") + ssh_get_error(s) : std::string()));
  return std::unique_ptr<ssh_client>(new ssh_client(std::move(p)));
}

certctl::result<std::optional<std::string>, connector_error> ssh_client::read_file(
    const std::string& path, std::size_t max_bytes) {
  if (auto r = impl_->open_sftp(); !r) return r.error();
  file_ptr f(sftp_open(impl_->sftp.get(), path.c_str(), O_RDONLY, 0));
  if (!f) {
    if (sftp_get_error(impl_->sftp.get()) == SSH_FX_NO_SUCH_FILE)
      return std::optional<std::string>();
    return impl_->sftp_failure("reading", path);
  }
  std::string out;
  char buf[16384];
  for (;;) {
    const ssize_t n = sftp_read(f.get(), buf, sizeof buf);
    if (n < 0) return impl_->sftp_failure("reading", path);
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > max_bytes)
      return err(connector_errc::failed, "ssh " + impl_->where + ": " + path + " is larger than " +
                                             std::to_string(max_bytes) + " bytes");
  }
  return std::optional<std::string>(std::move(out));
}

certctl::result<done, connector_error> ssh_client::write_file(const std::string& path,
                                                              const std::string& bytes, int mode) {
  if (auto r = impl_->open_sftp(); !r) return r.error();
  sftp_session sftp = impl_->sftp.get();
  file_ptr f(sftp_open(sftp, path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
  if (!f) return impl_->sftp_failure("creating", path);
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = sftp_write(f.get(), bytes.data() + off, bytes.size() - off);
    if (n <= 0) return impl_->sftp_failure("writing", path);
    off += static_cast<std::size_t>(n);
  }
  // Durable before it is renamed into place: a crash must not leave an empty certificate.
  if (sftp_extension_supported(sftp, "fsync@openssh.com", "1") != 0 && sftp_fsync(f.get()) != 0)
    return impl_->sftp_failure("syncing", path);
  if (sftp_close(f.release()) != SSH_NO_ERROR) return impl_->sftp_failure("closing", path);
  if (sftp_chmod(sftp, path.c_str(), static_cast<mode_t>(mode)) != 0)
    return impl_->sftp_failure("setting the mode of", path);
  return done{};
}

certctl::result<done, connector_error> ssh_client::rename(const std::string& from,
                                                          const std::string& to) {
  if (auto r = impl_->open_sftp(); !r) return r.error();
  if (sftp_rename(impl_->sftp.get(), from.c_str(), to.c_str()) == 0) return done{};
  // SFTP v3 RENAME refuses an existing target and libssh 0.10 does not send OpenSSH's
  // posix-rename extension, so replacing a file is rename(2) through `mv` (same directory,
  // same filesystem: atomic). Both paths are checked: they go through the remote shell.
  const auto failure = impl_->sftp_failure("renaming " + from + " to", to);
  if (!check_remote_path(from) || !check_remote_path(to)) return failure;
  auto mv = run("mv -f -- " + from + " " + to);
  if (!mv) return mv.error();
  if (mv->exit_status != 0)
    return err(connector_errc::failed, "ssh " + impl_->where + ": mv " + from + " " + to +
                                           " failed (exit status " +
                                           std::to_string(mv->exit_status) + "): " + mv->output);
  return done{};
}

certctl::result<done, connector_error> ssh_client::remove(const std::string& path) {
  if (auto r = impl_->open_sftp(); !r) return r.error();
  if (sftp_unlink(impl_->sftp.get(), path.c_str()) != 0 &&
      sftp_get_error(impl_->sftp.get()) != SSH_FX_NO_SUCH_FILE)
    return impl_->sftp_failure("removing", path);
  return done{};
}

certctl::result<std::vector<std::string>, connector_error> ssh_client::list_dir(
    const std::string& dir) {
  if (auto r = impl_->open_sftp(); !r) return r.error();
  sftp_dir d = sftp_opendir(impl_->sftp.get(), dir.c_str());
  if (d == nullptr) return impl_->sftp_failure("listing", dir);
  std::vector<std::string> names;
  while (sftp_attributes a = sftp_readdir(impl_->sftp.get(), d)) {
    const std::string name = a->name != nullptr ? a->name : "";
    sftp_attributes_free(a);
    if (!name.empty() && name != "." && name != "..") names.push_back(name);
  }
  const bool complete = sftp_dir_eof(d) != 0;
  sftp_closedir(d);
  if (!complete) return impl_->sftp_failure("listing", dir);
  return names;
}

certctl::result<remote_output, connector_error> ssh_client::run(const std::string& command,
                                                                std::size_t max_output) {
  ssh_session s = impl_->session.get();
  channel_ptr ch(ssh_channel_new(s));
  if (!ch || ssh_channel_open_session(ch.get()) != SSH_OK ||
      ssh_channel_request_exec(ch.get(), command.c_str()) != SSH_OK)
    return err(connector_errc::failed,
               "ssh " + impl_->where + ": cannot start a remote command: " + ssh_get_error(s));
  remote_output out;
  const auto deadline = std::chrono::steady_clock::now() + impl_->timeout;
  char buf[4096];
  auto append = [&](int n) {
    if (n > 0 && out.output.size() < max_output)
      out.output.append(
          buf, std::min<std::size_t>(static_cast<std::size_t>(n), max_output - out.output.size()));
  };
  for (;;) {
    const int n = ssh_channel_read_timeout(ch.get(), buf, sizeof buf, 0, 100);
    if (n == SSH_ERROR) break;
    append(n);
    const int e = ssh_channel_read_nonblocking(ch.get(), buf, sizeof buf, 1);
    if (e == SSH_ERROR) break;
    append(e);
    if (n <= 0 && e <= 0 && ssh_channel_is_eof(ch.get()) != 0) break;
    if (std::chrono::steady_clock::now() >= deadline)
      return err(connector_errc::failed, "ssh " + impl_->where + ": remote command '" + command +
                                             "' did not finish within " +
                                             std::to_string(impl_->timeout.count()) + " s");
  }
  // Drain what stderr still holds after stdout's end.
  for (int e; (e = ssh_channel_read_nonblocking(ch.get(), buf, sizeof buf, 1)) > 0;) append(e);
  ssh_channel_send_eof(ch.get());
  ssh_channel_close(ch.get());
  out.exit_status = ssh_channel_get_exit_status(ch.get());
  return out;
}

}  // namespace certctl::connectors::ssh
