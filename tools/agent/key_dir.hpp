#pragma once
/// The agent's private keys (issue 12 item 2): generated here, kept here, never sent. One file
/// per key, `<certificate id>-<first 16 hex of the public key's SHA-256>.key`, mode 0600 in a
/// 0700 directory, written atomically. Naming keys by their public key lets a renewal make a
/// new key while the old one still serves until the new certificate is deployed, and lets
/// deployment pick exactly the key that matches the certificate it received.

#include <string>

#include "events/result.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::agent {

/// Why no key could be had (the text names the file or the certificate).
struct key_error {
  std::string message;
};

class key_dir {
 public:
  /// Creates `dir` (and parents) and sets it to 0700.
  static certctl::result<key_dir, std::string> open(const std::string& dir);

  /// A fresh key for `certificate_id` (stored before the CSR leaves) and its CSR.
  certctl::result<crypto::key_and_csr, std::string> new_key(const std::string& certificate_id,
                                                            crypto::key_type type,
                                                            const std::string& common_name,
                                                            const crypto::subject_alt_names& sans);

  /// The stored key whose public half is the one certified by `cert_pem`.
  certctl::result<std::string, key_error> key_for(const std::string& certificate_id,
                                                  const std::string& cert_pem) const;

  /// Removes keys of `certificate_id` older than the one matching `cert_pem` (it has been
  /// deployed, so they are no longer needed). Keys made later (a renewal in flight) stay.
  void prune_older(const std::string& certificate_id, const std::string& cert_pem) const;

  const std::string& path() const { return dir_; }

 private:
  explicit key_dir(std::string dir) : dir_(std::move(dir)) {}
  std::string file_for(const std::string& certificate_id, const std::string& pub_sha256) const;
  std::string dir_;
};

/// True for ids the agent accepts as a file-name part: [A-Za-z0-9._-], not starting with '.'.
bool safe_id(const std::string& id);

}  // namespace certctl::agent
