// SCEP routing, GetCACaps / GetCACert / GetNextCACert and the CertRep helpers.
#include "gateways/scep/scep_server.hpp"

#include <iostream>

#include "gateways/scep/scep_impl.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::gateways::scep {
namespace {

/// RFC 8894 §3.5.2 capabilities; GetNextCACert only where a rollover CA is configured.
std::string ca_caps(const scep_profile& p) {
  std::string caps = "POSTPKIOperation\nSHA-256\nSHA-512\nAES\nSCEPStandard\nRenewal\n";
  if (!p.next_ca_chain_pem.empty()) caps += "GetNextCACert\n";
  return caps;
}

/// Standard base64 (GET PKIOperation's message parameter); nullopt when malformed. A '+'
/// that a form decoder turned into ' ' is taken back.
std::optional<crypto::bytes> base64_decode(const std::string& text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  crypto::bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char ch : text) {
    if (ch == '\r' || ch == '\n') continue;
    if (ch == ' ') ch = '+';
    if (ch == '=') break;
    const auto pos = alphabet.find(ch);
    if (pos == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

http::response binary(std::string content_type, const crypto::bytes& der) {
  http::response r;
  r.content_type = std::move(content_type);
  r.body.assign(der.begin(), der.end());
  return r;
}

}  // namespace

http::response plain_error(int status, const std::string& message) {
  http::response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = message + "\n";
  return r;
}

void scep_server::impl::log(const std::string& line) const {
  if (deps.log)
    deps.log(line);
  else
    std::cerr << line << std::endl;
}

scep_server::scep_server(std::vector<scep_profile> profiles, scep_dependencies deps)
    : impl_(std::make_unique<impl>(std::move(deps))) {
  for (auto& p : profiles) {
    auto ps = std::make_unique<profile_state>();
    ps->p = std::move(p);
    const std::string id = ps->p.config.path_id;
    impl_->profiles[id] = std::move(ps);
  }
}

scep_server::~scep_server() = default;

void scep_server::add_routes(http::router& r) {
  for (auto& [id, ps] : impl_->profiles) {
    profile_state* state = ps.get();
    const std::string path = id.empty() ? "/scep" : "/scep/" + id;
    auto h = [this, state](http::request_context& c) { return impl_->dispatch(c, *state, false); };
    r.add("GET", path, http::access_rule::public_route(), h);
    r.add("POST", path, http::access_rule::public_route(), h);
    if (!state->p.mtls_trust_pem.empty()) {
      const std::string mpath = id.empty() ? "/scep-mtls" : "/scep-mtls/" + id;
      auto m = [this, state](http::request_context& c) { return impl_->dispatch(c, *state, true); };
      r.add("GET", mpath, http::access_rule::public_route(), m);
      r.add("POST", mpath, http::access_rule::public_route(), m);
    }
  }
}

std::vector<std::string> scep_server::reload_intune_trust() {
  std::vector<std::string> lines;
  for (auto& [id, ps] : impl_->profiles) {
    if (!ps->p.intune) continue;
    const std::string name = id.empty() ? "(legacy /scep)" : id;
    auto n = ps->p.intune->reload(impl_->now());
    lines.push_back(n ? "scep intune " + name + ": trust reloaded, " + std::to_string(*n) +
                            " anchor(s)"
                      : "scep intune " + name + ": reload failed, old pool kept: " + n.error());
  }
  return lines;
}

http::response scep_server::impl::dispatch(const http::request_context& c, profile_state& ps,
                                           bool mtls) {
  const std::string op = c.query("operation").value_or("");
  if (op == "GetCACaps") {
    http::response r;
    r.content_type = "text/plain";
    r.body = ca_caps(ps.p);
    return r;
  }
  if (op == "GetCACert") {
    auto chain = crypto::split_pem_chain(ps.p.ca_chain_pem);
    if (!chain || chain->empty()) return plain_error(500, "the CA chain is not available");
    // RFC 8894 §4.2.1.2: with an RA, a certs-only SignedData carrying the RA and CA
    // certificates (the RA first, which clients without a selector encrypt to).
    std::vector<std::string> certs{ps.p.ra_cert_pem};
    certs.insert(certs.end(), chain->begin(), chain->end());
    auto der = crypto::scep_certs_only(certs);
    if (!der) return plain_error(500, der.error().message);
    return binary("application/x-x509-ca-ra-cert", *der);
  }
  if (op == "GetNextCACert") {
    if (ps.p.next_ca_chain_pem.empty())
      return plain_error(404, "no rollover CA is configured for this profile");
    auto chain = crypto::split_pem_chain(ps.p.next_ca_chain_pem);
    if (!chain) return plain_error(500, chain.error().message);
    auto der = crypto::scep_signed_certs_only(*chain, ps.p.ra_cert_pem, ps.p.ra_key_pem);
    if (!der) return plain_error(500, der.error().message);
    return binary("application/x-x509-next-ca-cert", *der);
  }
  if (op == "PKIOperation") {
    if (mtls) {
      // Checked before the message is read: the route exists for holders of a client
      // certificate from the profile's trust bundle.
      if (c.raw.peer_certificates.empty())
        return plain_error(403, "this route requires a TLS client certificate");
      const auto& leaf = c.raw.peer_certificates.front();
      const auto client_pem =
          crypto::certificate_der_to_pem(crypto::bytes(leaf.begin(), leaf.end()));
      if (!client_pem) return plain_error(403, "the TLS client certificate does not parse");
      if (auto v = crypto::verify_issued_by(*client_pem, ps.p.mtls_trust_pem, now()); !v) {
        log("scep-mtls " + ps.p.config.path_id +
            ": client certificate refused: " + v.error().message);
        return plain_error(403, "the TLS client certificate is not trusted by this profile");
      }
    }
    crypto::bytes message;
    if (c.method() == "POST") {
      message.assign(c.body().begin(), c.body().end());
    } else {
      const std::string b64 = c.query("message").value_or("");
      if (b64.size() > crypto::max_scep_message_size * 4 / 3 + 4)
        return plain_error(
            413, "the message exceeds " + std::to_string(crypto::max_scep_message_size) + " bytes");
      auto decoded = base64_decode(b64);
      if (!decoded || decoded->empty())
        return plain_error(400, "message is not base64 (RFC 8894 §4.3)");
      message = std::move(*decoded);
    }
    if (message.size() > crypto::max_scep_message_size)
      return plain_error(
          413, "the message exceeds " + std::to_string(crypto::max_scep_message_size) + " bytes");
    if (message.empty()) return plain_error(400, "PKIOperation without a message");
    return pki_operation(c, ps, message, mtls);
  }
  if (op.empty()) return plain_error(400, "missing operation parameter");
  return plain_error(400, "unsupported operation " + op.substr(0, 64));
}

http::response scep_server::impl::reply(profile_state& ps, const crypto::scep_pki_message& m,
                                        crypto::scep_status status, crypto::scep_fail_info fail,
                                        const std::string& issued_leaf_pem) {
  crypto::scep_reply rep;
  rep.status = status;
  rep.fail_info = fail;
  rep.transaction_id = m.transaction_id;
  rep.recipient_nonce = m.sender_nonce;
  if (!issued_leaf_pem.empty()) rep.issued_pem = {issued_leaf_pem};
  rep.recipient_cert_pem = m.signer_cert_pem;
  rep.ra_cert_pem = ps.p.ra_cert_pem;
  rep.ra_key_pem = ps.p.ra_key_pem;
  auto der = crypto::build_scep_cert_rep(rep);
  if (!der) {
    log("scep: cannot build CertRep for transaction " + m.transaction_id + ": " +
        der.error().message);
    return plain_error(500, "cannot build the reply");
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    if (status == crypto::scep_status::success)
      ++ps.counters.success;
    else if (status == crypto::scep_status::pending)
      ++ps.counters.pending;
    else
      ++ps.counters.failure;
  }
  return binary("application/x-pki-message", *der);
}

http::response scep_server::impl::fail(profile_state& ps, const crypto::scep_pki_message& m,
                                       crypto::scep_fail_info f, const std::string& why) {
  log("scep " + (ps.p.config.path_id.empty() ? std::string("/scep") : ps.p.config.path_id) +
      ": transaction " + m.transaction_id + " refused (" + crypto::to_string(f) + "): " + why);
  return reply(ps, m, crypto::scep_status::failure, f);
}

}  // namespace certctl::gateways::scep
