// open_local_ca: configuration checks, then loading (or on first start creating) the CA.

#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "connectors/issuers/local/local_ca.hpp"
#include "connectors/issuers/local/local_ca_state.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::connectors {

namespace {

using open_result = certctl::result<std::unique_ptr<local_ca>, issuer_error>;

issuer_error config_error(std::string message) {
  return issuer_error{issuer_errc::invalid_request, "local CA: " + std::move(message)};
}

issuer_error setup_error(std::string message) {
  return issuer_error{issuer_errc::unavailable, "local CA: " + std::move(message)};
}

const infra::system_clock default_clock;

struct loaded_ca {
  std::string cert_pem;
  std::string chain_pem;
  std::string key_pem;
  std::string passphrase;
};

/// Refuses an operator-supplied CA key that group or others may access: whoever can read it
/// can sign certificates every client of this CA trusts. Follows symlinks (mounted secrets are
/// links), because the target's mode is what protects the key.
std::optional<issuer_error> check_ca_key_mode(const std::string& key_path) {
  struct stat st {};
  if (::stat(key_path.c_str(), &st) != 0) return std::nullopt;  // read_file names the error
  const unsigned mode = static_cast<unsigned>(st.st_mode) & 07777u;
  if ((mode & 0077u) == 0) return std::nullopt;
  char octal[8];
  std::snprintf(octal, sizeof octal, "%04o", mode);
  return config_error("ca_key_path " + key_path + " (CERTCTL_CA_KEY_PATH) is accessible by " +
                      "group or others (mode " + octal +
                      "); a CA private key must be readable by its owner only: chmod 600 " +
                      key_path);
}

certctl::result<loaded_ca, issuer_error> load_sub_ca(const local_ca_config& c) {
  const std::string& cert_path = c.ca_cert_path;
  const std::string& key_path = c.ca_key_path;
  auto cert_text = crypto::read_file(cert_path, crypto::max_chain_pem);
  if (!cert_text) return config_error("ca_cert_path: " + cert_text.error().message);
  auto chain = crypto::split_pem_chain(cert_text.value());
  if (!chain) return config_error("ca_cert_path " + cert_path + ": " + chain.error().message);
  const std::string& ca = chain.value().front();
  if (auto ok = crypto::check_ca_certificate(ca); !ok)
    return config_error("ca_cert_path " + cert_path + ": " + ok.error().message);

  if (auto exposed = check_ca_key_mode(key_path)) return *exposed;
  auto key_text = crypto::read_file(key_path, crypto::max_private_key_pem);
  if (!key_text) return config_error("ca_key_path: " + key_text.error().message);
  if (auto k = crypto::parse_private_key(key_text.value(), c.ca_key_passphrase); !k)
    return config_error("ca_key_path " + key_path + ": " + k.error().message);
  if (!crypto::check_key_matches_certificate(key_text.value(), ca, c.ca_key_passphrase))
    return config_error("ca_key_path " + key_path + " does not match the certificate in " +
                        "ca_cert_path " + cert_path);
  loaded_ca out{ca, {}, std::move(key_text).value(), c.ca_key_passphrase};
  for (const auto& pem : chain.value()) out.chain_pem += pem;
  return out;
}

certctl::result<std::string, issuer_error> make_root(const local_ca_config& c,
                                                     const std::string& key_pem) {
  crypto::certificate_template t;
  t.subject.common_name = c.ca_common_name;
  t.subject.organization = c.ca_organization;
  const std::int64_t now_s = c.clock->now() / 1'000'000;
  // An hour of backdating keeps clients whose clocks run a little slow from rejecting the root.
  t.not_before = now_s - 3600;
  t.not_after = now_s + c.ca_validity_us / 1'000'000;
  t.is_ca = true;
  auto pem = crypto::self_sign(key_pem, t);
  if (!pem) return setup_error("create root certificate: " + pem.error().message);
  return std::move(pem).value();
}

certctl::result<loaded_ca, issuer_error> load_or_create_root(const local_ca_config& c) {
  if (auto d = crypto::ensure_private_directory(c.data_dir); !d)
    return setup_error("data_dir: " + d.error().message);
  const std::string master_path =
      c.master_key_path.empty() ? c.data_dir + "/master.key" : c.master_key_path;
  auto master = crypto::load_or_create_master_key(master_path);
  if (!master) return setup_error(master.error().message);
  const std::string dir = c.data_dir + "/issuers/" + c.issuer_id;
  auto store = crypto::key_store::open(dir, master.value());
  if (!store) return setup_error(store.error().message);
  const std::string cert_path = dir + "/ca.pem";
  const bool have_cert = crypto::file_exists(cert_path);

  std::string key_pem;
  if (store.value().contains("ca")) {
    auto key = store.value().get("ca");
    if (!key) return setup_error("load CA key: " + key.error().message);
    key_pem = std::move(key).value();
  } else if (have_cert) {
    // Never silently replace a CA whose certificates are already out there.
    return setup_error("found " + cert_path + " but not its key (id \"ca\" in " +
                       store.value().database_path() +
                       "); restore the key, or remove the certificate to create a new CA");
  } else {
    auto key = crypto::generate_key(c.ca_key_type);
    if (!key) return setup_error("generate CA key: " + key.error().message);
    key_pem = std::move(key).value().pem;
    if (auto put = store.value().put("ca", key_pem); !put) return setup_error(put.error().message);
  }

  std::string cert_pem;
  if (have_cert) {
    auto text = crypto::read_file(cert_path, crypto::max_chain_pem);
    if (!text) return setup_error(text.error().message);
    cert_pem = std::move(text).value();
  } else {
    // Also reached when a previous start crashed between storing the key and the certificate.
    auto made = make_root(c, key_pem);
    if (!made) return made.error();
    cert_pem = std::move(made).value();
    if (auto w = crypto::write_file_atomic(cert_path, cert_pem, 0600); !w)
      return setup_error(w.error().message);
  }
  if (!crypto::check_key_matches_certificate(key_pem, cert_pem))
    return setup_error("the key \"ca\" in " + store.value().database_path() + " does not match " +
                       cert_path);
  return loaded_ca{cert_pem, cert_pem, std::move(key_pem), {}};
}

std::string trim_trailing_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

open_result open_local_ca(const local_ca_config& config) {
  local_ca_config c = config;
  if (c.clock == nullptr) c.clock = &default_clock;
  if (!crypto::valid_key_id(c.issuer_id))
    return config_error("issuer_id \"" + c.issuer_id + "\" must be 1-128 of A-Z a-z 0-9 . _ -");
  const bool sub_ca = !c.ca_cert_path.empty() || !c.ca_key_path.empty();
  if (sub_ca && (c.ca_cert_path.empty() || c.ca_key_path.empty()))
    return config_error("ca_cert_path and ca_key_path must be given together");
  if (!sub_ca && c.data_dir.empty())
    return config_error("data_dir is required when no ca_cert_path/ca_key_path is given");
  c.pki_base_url = trim_trailing_slashes(c.pki_base_url);
  if (!c.pki_base_url.empty() && c.pki_base_url.rfind("http://", 0) != 0 &&
      c.pki_base_url.rfind("https://", 0) != 0)
    return config_error("pki_base_url \"" + c.pki_base_url + "\" must start with http(s)://");
  if (c.default_max_ttl_us <= 0) return config_error("default_max_ttl_us must be positive");
  if (c.ca_validity_us < 86400LL * 1'000'000)
    return config_error("ca_validity_us must be at least one day");
  if (c.ocsp_responder_validity_us < 3600LL * 1'000'000 || c.ocsp_responder_renew_before_us <= 0 ||
      c.ocsp_responder_renew_before_us >= c.ocsp_responder_validity_us)
    return config_error(
        "ocsp_responder_validity_us must be at least an hour and renew_before shorter than it");

  auto loaded = sub_ca ? load_sub_ca(c) : load_or_create_root(c);
  if (!loaded) return loaded.error();
  loaded_ca& l = loaded.value();
  auto signer = crypto::certificate_signer::create(l.cert_pem, l.key_pem, l.passphrase);
  if (!signer) return setup_error("load CA: " + signer.error().message);
  if (signer.value().ca_not_after() <= c.clock->now() / 1'000'000)
    return setup_error("the CA certificate has expired; it can no longer issue");

  auto revocation = crypto::revocation_signer::create(l.cert_pem, l.key_pem, l.passphrase);
  if (!revocation) return setup_error("load CA for CRL/OCSP: " + revocation.error().message);

  auto s = std::make_unique<local_ca::state>(local_ca::state{c,
                                                             std::move(signer).value(),
                                                             l.cert_pem,
                                                             l.chain_pem,
                                                             {},
                                                             {},
                                                             !sub_ca,
                                                             std::move(revocation).value(),
                                                             nullptr});
  s->responder = std::make_unique<ocsp_rotator>(
      s->ca_cert_pem, s->revocation, *s->config.clock,
      ocsp_rotation{c.ocsp_responder_validity_us, c.ocsp_responder_renew_before_us});
  if (!c.pki_base_url.empty()) {
    s->crl_url = c.pki_base_url + "/.well-known/pki/crl/" + c.issuer_id;
    s->ocsp_url = c.pki_base_url + "/.well-known/pki/ocsp/" + c.issuer_id;
  }
  return std::make_unique<local_ca>(std::move(s));
}

}  // namespace certctl::connectors
