#pragma once
/// Small helpers for the agent's unit tests: a scratch directory, file modes, and a
/// certificate for a given public key (so a test can play the CA for a key the agent made).

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"

namespace certctl::agent::test {

struct scratch_dir {
  scratch_dir() {
    static std::atomic<int> n{0};
    path = (std::filesystem::temp_directory_path() /
            ("certctl-agent-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++)))
               .string();
    std::filesystem::create_directories(path);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

inline unsigned mode_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

inline std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

inline void write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

/// A certificate for `public_key_der` (CN and DNS SAN `cn`, optional serial in hex), signed by
/// a throwaway CA.
inline std::string certificate_for(const crypto::bytes& public_key_der, const std::string& cn,
                                   const std::string& serial_hex = "") {
  auto ca_key = crypto::generate_key();
  BOOST_REQUIRE(ca_key.ok());
  crypto::certificate_template ca;
  ca.subject.common_name = "agent test CA";
  ca.is_ca = true;
  ca.not_before = 1780000000;
  ca.not_after = 1890000000;
  auto ca_pem = crypto::self_sign(ca_key->pem, ca);
  BOOST_REQUIRE(ca_pem.ok());
  auto signer = crypto::certificate_signer::create(*ca_pem, ca_key->pem);
  BOOST_REQUIRE(signer.ok());
  crypto::certificate_template t;
  t.public_key_der = public_key_der;
  t.subject.common_name = cn;
  t.sans.dns = {cn};
  t.not_before = 1790000000;
  t.not_after = 1790000000 + 86400 * 30;
  for (size_t i = 0; i + 1 < serial_hex.size(); i += 2)
    t.serial.push_back(static_cast<std::uint8_t>(std::stoi(serial_hex.substr(i, 2), nullptr, 16)));
  auto pem = signer->sign(t);
  BOOST_REQUIRE_MESSAGE(pem.ok(), (pem.ok() ? std::string() : pem.error().message));
  return *pem;
}

}  // namespace certctl::agent::test
