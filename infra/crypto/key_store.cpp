#include "infra/crypto/key_store.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>

#include "infra/crypto/secure_file.hpp"

namespace certctl::crypto {

namespace {

constexpr std::string_view magic = "CKS1";
constexpr size_t max_secret_file = 1024 * 1024;

std::string associated_data(std::string_view id) {
  return "certctl-key-store/v1/" + std::string(id);
}

crypto_error bad_id(std::string_view id) {
  return crypto_error{"key store: invalid id \"" + std::string(id.substr(0, 140)) +
                      "\" (1-128 characters of A-Z a-z 0-9 . _ -, not starting with '.')"};
}

}  // namespace

bool valid_key_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

crypto_result<aead_key> load_or_create_master_key(const std::string& path) {
  if (!file_exists(path)) {
    const aead_key fresh = generate_aead_key();
    auto created = create_file_exclusive(
        path, std::string_view(reinterpret_cast<const char*>(fresh.data()), fresh.size()), 0600);
    if (!created) return crypto_error{"master key: " + created.error().message};
    if (created.value()) return fresh;
    // Another process created it first: fall through and use theirs.
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return crypto_error{"master key " + path + ": cannot stat"};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return crypto_error{"master key " + path + " is accessible by group or others (mode " + mode +
                        "); run chmod 600 on it"};
  }
  auto data = read_file(path, 4096);
  if (!data) return crypto_error{"master key: " + data.error().message};
  if (data.value().size() != aead_key_size)
    return crypto_error{"master key " + path + " must be exactly 32 bytes, found " +
                        std::to_string(data.value().size())};
  aead_key key{};
  std::copy(data.value().begin(), data.value().end(), key.begin());
  return key;
}

key_store::key_store(std::string directory, const aead_key& master_key)
    : dir_(std::move(directory)), key_(master_key) {}

crypto_result<key_store> key_store::open(std::string directory, const aead_key& master_key) {
  if (auto r = ensure_private_directory(directory); !r)
    return crypto_error{"key store: " + r.error().message};
  return key_store(std::move(directory), master_key);
}

std::string key_store::path_of(std::string_view id) const {
  return dir_ + "/" + std::string(id) + ".key";
}

crypto_result<done> key_store::put(std::string_view id, std::string_view secret_pem) {
  if (!valid_key_id(id)) return bad_id(id);
  auto sealed = aead_seal(key_, secret_pem, associated_data(id));
  if (!sealed) return crypto_error{"key store: " + sealed.error().message};
  std::string file(magic);
  file.append(reinterpret_cast<const char*>(sealed.value().data()), sealed.value().size());
  if (auto w = write_file_atomic(path_of(id), file, 0600); !w)
    return crypto_error{"key store: " + w.error().message};
  return done{};
}

crypto_result<std::string> key_store::get(std::string_view id) const {
  if (!valid_key_id(id)) return bad_id(id);
  const std::string path = path_of(id);
  if (!file_exists(path))
    return crypto_error{"key store: no key with id \"" + std::string(id) + "\""};
  auto file = read_file(path, max_secret_file);
  if (!file) return crypto_error{"key store: " + file.error().message};
  const std::string& f = file.value();
  if (f.compare(0, magic.size(), magic) != 0)
    return crypto_error{"key store: " + path + " is not a key store file"};
  const bytes sealed(f.begin() + static_cast<std::ptrdiff_t>(magic.size()), f.end());
  auto opened = aead_open(key_, sealed, associated_data(id));
  if (!opened) return crypto_error{"key store: " + path + ": " + opened.error().message};
  return std::move(opened).value();
}

crypto_result<done> key_store::remove(std::string_view id) {
  if (!valid_key_id(id)) return bad_id(id);
  if (auto r = remove_file(path_of(id)); !r) return crypto_error{"key store: " + r.error().message};
  return done{};
}

bool key_store::contains(std::string_view id) const {
  return valid_key_id(id) && file_exists(path_of(id));
}

}  // namespace certctl::crypto
