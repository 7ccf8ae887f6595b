#include "gateways/scep/scep_routes.hpp"

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "connectors/issuers/issuer.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/scep_message.hpp"
#include "infra/crypto/secure_file.hpp"
#include "projections/certificate_queries.hpp"

namespace certctl::gateways::scep {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

/// The file's contents; nullopt with `why` set (naming `var`) when unreadable or, for a
/// secret, readable by group or others.
std::optional<std::string> read_file(const std::string& path, const std::string& var, bool secret,
                                     std::string& why) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    why = var + ": cannot read " + path;
    return std::nullopt;
  }
  if (secret && (st.st_mode & 077) != 0) {
    why = var + ": " + path + " must not be readable by group or others (mode 0600)";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = var + ": cannot read " + path;
    return std::nullopt;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// RA certificate valid for another 30 days and issued by the current CA chain.
bool usable_ra(const std::string& cert_pem, const std::string& chain_pem, std::int64_t now) {
  auto info = crypto::parse_certificate(cert_pem);
  return info && info->not_after > now + 30 * 86400 &&
         static_cast<bool>(crypto::verify_issued_by(cert_pem, chain_pem, now));
}

/// RFC 8894 §2.1.1: the RA signs replies and is the recipient of requests, so an RSA key
/// (CMS key transport) with digitalSignature and keyEncipherment.
certctl::result<done, std::string> ensure_ra(scep_profile& p, connectors::issuer& issuer,
                                             crypto::key_store& keys) {
  const std::string id = "scep-ra-" + (p.config.path_id.empty() ? "default" : p.config.path_id);
  const std::string cert_id = id + ".crt";
  const auto now = unix_now();
  if (keys.contains(id) && keys.contains(cert_id)) {
    auto key = keys.get(id);
    auto cert = keys.get(cert_id);
    if (key && cert && usable_ra(*cert, p.ca_chain_pem, now)) {
      p.ra_key_pem = *key;
      p.ra_cert_pem = *cert;
      p.ra_generated = true;
      return done{};
    }
  }
  auto key = crypto::generate_key(crypto::key_type::rsa_2048);
  if (!key) return "RA key: " + key.error().message;
  const std::string cn =
      "certctl SCEP RA " + (p.config.path_id.empty() ? std::string("default") : p.config.path_id);
  auto csr = crypto::build_csr({key->pem, cn, {}});
  if (!csr) return "RA CSR: " + csr.error().message;
  connectors::issuance_request req;
  req.csr_pem = *csr;
  req.common_name = cn;
  req.ekus = {crypto::ext_key_usage::client_auth};
  auto issued = issuer.issue(req);
  if (!issued)
    return "RA certificate from issuer " + p.config.issuer_id + ": " + issued.error().message;
  if (auto s = keys.put(id, key->pem); !s) return "RA key store: " + s.error().message;
  if (auto s = keys.put(cert_id, issued->cert_pem); !s) return "RA key store: " + s.error().message;
  p.ra_key_pem = key->pem;
  p.ra_cert_pem = issued->cert_pem;
  p.ra_generated = true;
  return done{};
}

}  // namespace

certctl::result<scep_gateway, std::string> add_scep_routes(http::router& r,
                                                           const scep_context& ctx) {
  scep_gateway gw;
  // The probe trusts the system store and this server's own CA (a probe of our own endpoint
  // is the usual first check).
  std::string trust;
  {
    std::ifstream sys("/etc/ssl/certs/ca-certificates.crt", std::ios::binary);
    std::stringstream ss;
    if (sys) ss << sys.rdbuf();
    trust = ss.str();
    std::ifstream own(ctx.data_dir + "/ca-bundle.pem", std::ios::binary);
    std::stringstream os;
    if (own) os << own.rdbuf();
    trust += "\n" + os.str();
  }
  scep_probe_options popt;
  popt.guard = net::outbound_guard(ctx.config.outbound_allow_cidrs);
  popt.ca_bundle_path = ctx.data_dir + "/scep-probe-trust.pem";
  if (auto w = crypto::write_file_atomic(popt.ca_bundle_path, trust, 0644); !w)
    return "SCEP probe trust file: " + w.error().message;
  gw.prober = std::make_unique<scep_prober>(std::move(popt), [] { return unix_now() * 1000000; });
  gw.prober->add_routes(r);

  std::vector<scep_profile> profiles;
  for (const auto& cfg : ctx.profiles) {
    scep_profile p;
    p.config = cfg;
    const std::string& x = cfg.env_prefix;
    std::string why;
    connectors::issuer* issuer = ctx.issuer_for(cfg.issuer_id, why);
    if (issuer == nullptr)
      return x + "ISSUER_ID=" + cfg.issuer_id + ": " + (why.empty() ? "no such issuer" : why);
    p.ca_chain_pem = issuer->ca_chain_pem();
    if (p.ca_chain_pem.empty())
      return x + "ISSUER_ID=" + cfg.issuer_id + ": the issuer has no static CA chain for GetCACert";
    if (!cfg.next_ca_cert_path.empty()) {
      auto next = read_file(cfg.next_ca_cert_path, x + "NEXT_CA_CERT_PATH", false, why);
      if (!next) return why;
      auto certs = crypto::split_pem_chain(*next);
      if (!certs || certs->empty())
        return x + "NEXT_CA_CERT_PATH: " + cfg.next_ca_cert_path + " holds no certificate";
      p.next_ca_chain_pem = *next;
    }
    if (cfg.mtls_enabled) {
      auto bundle =
          read_file(cfg.mtls_trust_bundle_path, x + "MTLS_CLIENT_CA_TRUST_BUNDLE_PATH", false, why);
      if (!bundle) return why;
      auto certs = crypto::split_pem_chain(*bundle);
      if (!certs || certs->empty())
        return x + "MTLS_CLIENT_CA_TRUST_BUNDLE_PATH: " + cfg.mtls_trust_bundle_path +
               " holds no certificate";
      p.mtls_trust_pem = *bundle;
    }
    if (!cfg.ra_cert_path.empty()) {
      auto cert = read_file(cfg.ra_cert_path, x + "RA_CERT_PATH", false, why);
      if (!cert) return why;
      auto key = read_file(cfg.ra_key_path, x + "RA_KEY_PATH", true, why);
      if (!key) return why;
      auto info = crypto::parse_certificate(*cert);
      if (!info) return x + "RA_CERT_PATH: " + info.error().message;
      if (info->key_algorithm != "RSA")
        return x + "RA_CERT_PATH: the RA key must be RSA (SCEP clients encrypt to it)";
      if (auto m = crypto::check_key_matches_certificate(*key, *cert); !m)
        return x + "RA_KEY_PATH: " + m.error().message;
      p.ra_cert_pem = *cert;
      p.ra_key_pem = *key;
    } else if (auto made = ensure_ra(p, *issuer, ctx.keys); !made) {
      return x + "RA: " + made.error();
    }
    if (cfg.intune_enabled) {
      intune_settings s;
      s.trust_path = cfg.intune_connector_cert_path;
      s.audience = cfg.intune_audience;
      s.challenge_validity_s = cfg.intune_challenge_validity_s;
      s.clock_skew_s = cfg.intune_clock_skew_s;
      s.rate_limit_24h = cfg.intune_rate_limit_24h;
      auto v = intune_validator::make(std::move(s), unix_now());
      if (!v) return x + "INTUNE_CONNECTOR_CERT_PATH: " + v.error();
      p.intune = std::move(*v);
    }
    profiles.push_back(std::move(p));
  }

  auto* store = &ctx.store;
  auto* db = &ctx.db;
  auto* issuance = &ctx.issuance;
  scep_dependencies deps{ctx.runtime, {}, {}, {}, {}, ctx.log};
  deps.issue = [issuance](actors::issuance_task t, std::function<void()> on_finished) {
    issuance->enqueue(std::move(t), std::move(on_finished));
  };
  // From the log itself, not a read model: the reply right after issuance must see it.
  deps.issued = [store](const std::string& id) -> std::optional<issued_version> {
    auto stream = store->read_stream("certificate-" + id);
    if (!stream) return std::nullopt;
    for (auto it = stream->rbegin(); it != stream->rend(); ++it) {
      if (it->type != "certificate.issued") continue;
      auto p = events::json_object::parse(it->payload);
      if (!p) return std::nullopt;
      return issued_version{p->str("pem_chain"), p->str("serial_number"), p->str("job_id")};
    }
    return std::nullopt;
  };
  deps.certificate_by_serial = [db](const std::string& serial) -> std::optional<std::string> {
    auto found = projections::find_version_by_serial(*db, serial);
    if (!found || !found->has_value()) return std::nullopt;
    return (*found)->certificate_id;
  };
  deps.now_unix = [] { return unix_now(); };
  gw.server = std::make_unique<scep_server>(std::move(profiles), std::move(deps));
  gw.server->add_routes(r);
  gw.server->add_admin_routes(r);
  return gw;
}

}  // namespace certctl::gateways::scep
