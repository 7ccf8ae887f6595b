#include "tools/agent/key_dir.hpp"

#include <sys/stat.h>

#include <cctype>

#include <filesystem>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/secure_file.hpp"

namespace certctl::agent {
namespace fs = std::filesystem;

bool safe_id(const std::string& id) {
  if (id.empty() || id.size() > 128 || id[0] == '.') return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

certctl::result<key_dir, std::string> key_dir::open(const std::string& dir) {
  auto made = crypto::ensure_private_directory(dir);
  if (!made) return "key dir " + dir + ": " + made.error().message;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return "key dir " + dir + " is not a directory";
  if ((st.st_mode & 0077) != 0) return "key dir " + dir + " is accessible to group or others";
  return key_dir(dir);
}

std::string key_dir::file_for(const std::string& certificate_id,
                              const std::string& pub_sha256) const {
  return dir_ + "/" + certificate_id + "-" + pub_sha256.substr(0, 16) + ".key";
}

certctl::result<crypto::key_and_csr, std::string> key_dir::new_key(
    const std::string& certificate_id, crypto::key_type type, const std::string& common_name,
    const crypto::subject_alt_names& sans) {
  if (!safe_id(certificate_id)) return "unusable certificate id '" + certificate_id + "'";
  auto made = crypto::generate_key_and_csr(type, common_name, sans);
  if (!made) return "key generation failed: " + made.error().message;
  const std::string file = file_for(certificate_id, made->csr.public_key_sha256_hex);
  // Stored before the CSR is sent: a certificate must never come back for a lost key.
  auto written = crypto::write_file_atomic(file, made->key.pem, 0600);
  if (!written) return "writing " + file + ": " + written.error().message;
  return std::move(*made);
}

certctl::result<std::string, key_error> key_dir::key_for(const std::string& certificate_id,
                                                         const std::string& cert_pem) const {
  if (!safe_id(certificate_id))
    return key_error{"unusable certificate id '" + certificate_id + "'"};
  auto info = crypto::parse_certificate(cert_pem);
  if (!info) return key_error{"certificate does not parse: " + info.error().message};
  const std::string file = file_for(certificate_id, info->public_key_sha256_hex);
  if (!crypto::file_exists(file))
    return key_error{"no private key for certificate " + certificate_id +
                     " in the key dir (was its CSR made by another agent or by the server?)"};
  auto pem = crypto::read_file(file, crypto::max_private_key_pem);
  if (!pem) return key_error{"reading " + file + ": " + pem.error().message};
  auto matches = crypto::check_key_matches_certificate(*pem, cert_pem);
  if (!matches)
    return key_error{file + " does not match the certificate: " + matches.error().message};
  return std::move(*pem);
}

void key_dir::prune_older(const std::string& certificate_id, const std::string& cert_pem) const {
  auto info = crypto::parse_certificate(cert_pem);
  if (!info || !safe_id(certificate_id)) return;
  const std::string keep = file_for(certificate_id, info->public_key_sha256_hex);
  std::error_code ec;
  const auto keep_time = fs::last_write_time(keep, ec);
  if (ec) return;
  const std::string prefix = certificate_id + "-";
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    // Exactly "<id>-<16 hex>.key": another certificate's id may start with this one's.
    if (name.size() != prefix.size() + 16 + 4 || name.rfind(prefix, 0) != 0 ||
        name.substr(name.size() - 4) != ".key" || entry.path().string() == keep)
      continue;
    std::error_code ec2;
    if (fs::last_write_time(entry.path(), ec2) < keep_time && !ec2)
      crypto::remove_file(entry.path().string());
  }
}

}  // namespace certctl::agent
