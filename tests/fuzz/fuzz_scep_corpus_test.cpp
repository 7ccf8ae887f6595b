// The SCEP fuzz targets over real seeds (a PKCSReq, a CertRep, a certs-only structure, Intune
// tokens) and deterministic mutations of them, in the ordinary test run. With
// CERTCTL_FUZZ_SEED_DIR set the seeds are also written there for tools/dev/fuzz.sh.
#define BOOST_TEST_MODULE fuzz_scep_corpus
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "infra/crypto/jws.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/random.hpp"
#include "infra/crypto/scep_message.hpp"
#include "tests/fuzz/fuzz_targets.hpp"
#include "tests/fuzz/seed_mutations.hpp"

using namespace certctl;
using namespace certctl::fuzz;

namespace {

void export_seeds(const char* name, const std::vector<std::string>& seeds) {
  const char* dir = std::getenv("CERTCTL_FUZZ_SEED_DIR");
  if (dir == nullptr || *dir == '\0') return;
  const auto target_dir = std::filesystem::path(dir) / name;
  std::filesystem::create_directories(target_dir);
  for (const auto& s : seeds) {
    std::ofstream out(target_dir / ("seed-" + std::to_string(std::hash<std::string>{}(s))),
                      std::ios::binary);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    BOOST_REQUIRE(out.good());
  }
}

void drive(target_fn fn, const char* name, const std::vector<std::string>& seeds, int mutations) {
  export_seeds(name, seeds);
  run_seed_mutations(fn, seeds, mutations);
}

std::string str(const crypto::bytes& b) {
  return std::string(b.begin(), b.end());
}

struct material {
  std::string key_pem, cert_pem;
};
material rsa(const std::string& cn) {
  auto key = crypto::generate_key(crypto::key_type::rsa_2048);
  BOOST_REQUIRE(static_cast<bool>(key));
  auto cert = crypto::self_signed_certificate(key->pem, cn, 1);
  BOOST_REQUIRE(static_cast<bool>(cert));
  return {key->pem, *cert};
}

}  // namespace

BOOST_AUTO_TEST_CASE(scep_parsers_survive_mutated_messages) {
  const auto client = rsa("device");
  const auto ra = rsa("ra");
  crypto::scep_request_spec spec;
  spec.transaction_id = "tid-1";
  spec.sender_nonce = std::string(16, 'n');
  spec.content = {0x30, 0x03, 0x02, 0x01, 0x00};
  spec.signer_cert_pem = client.cert_pem;
  spec.signer_key_pem = client.key_pem;
  spec.recipients_pem = {ra.cert_pem};
  auto req = crypto::build_scep_request(spec);
  BOOST_REQUIRE(static_cast<bool>(req));
  // The seed must really be a valid message, or the mutations exercise nothing past the DER.
  auto opened = crypto::open_scep_message(*req);
  BOOST_REQUIRE(static_cast<bool>(opened));
  BOOST_TEST(opened->signature_valid);
  BOOST_TEST(opened->transaction_id == "tid-1");
  auto plain = crypto::decrypt_scep_envelope(opened->envelope_der, ra.cert_pem, ra.key_pem);
  BOOST_REQUIRE(static_cast<bool>(plain));
  BOOST_TEST(str(*plain) == str(spec.content));

  crypto::scep_reply rep;
  rep.status = crypto::scep_status::success;
  rep.transaction_id = "tid-1";
  rep.recipient_nonce = spec.sender_nonce;
  rep.issued_pem = {client.cert_pem};
  rep.recipient_cert_pem = client.cert_pem;
  rep.ra_cert_pem = ra.cert_pem;
  rep.ra_key_pem = ra.key_pem;
  auto cert_rep = crypto::build_scep_cert_rep(rep);
  BOOST_REQUIRE(static_cast<bool>(cert_rep));
  auto back = crypto::open_scep_cert_rep(*cert_rep, client.cert_pem, client.key_pem);
  BOOST_REQUIRE(static_cast<bool>(back));
  BOOST_TEST(back->status == 0);
  BOOST_TEST(back->signature_valid);
  BOOST_REQUIRE_EQUAL(back->certificates_pem.size(), 1u);

  auto certs = crypto::scep_certs_only({ra.cert_pem, client.cert_pem});
  BOOST_REQUIRE(static_cast<bool>(certs));
  auto parsed = crypto::scep_parse_certs_only(*certs);
  BOOST_REQUIRE(static_cast<bool>(parsed));
  BOOST_TEST(parsed->size() == 2u);

  drive(scep_message, "scep_message", {str(*req), str(*cert_rep), str(*certs)}, 400);
  drive(scep_certs_only, "scep_certs_only", {str(*certs), str(*req)}, 400);
}

BOOST_AUTO_TEST_CASE(intune_token_parser_survives_mutated_tokens) {
  const auto signer = rsa("connector");
  auto flat = crypto::sign_jws(signer.key_pem, "", "", "",
                               "{\"iss\":\"i\",\"sub\":\"s\",\"iat\":1,\"exp\":2,\"aud\":[\"a\"]}");
  BOOST_REQUIRE(static_cast<bool>(flat));
  // flattened {"protected","payload","signature"} -> compact
  auto field = [&](const std::string& k) {
    const auto at = flat->find("\"" + k + "\":\"") + k.size() + 4;
    return flat->substr(at, flat->find('"', at) - at);
  };
  const std::string token = field("protected") + "." + field("payload") + "." + field("signature");
  drive(intune_token, "intune_token",
        {token, "a.b.c", "eyJhbGciOiJub25lIn0.e30.", std::string(20000, '.')}, 1500);
}
