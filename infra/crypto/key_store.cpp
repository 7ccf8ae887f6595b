#include "infra/crypto/key_store.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "infra/crypto/detail/sealed_db.hpp"
#include "infra/crypto/detail/shared_sealed_table.hpp"
#include "infra/crypto/secure_file.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::crypto {

namespace {

using detail::sealed_db;

constexpr std::string_view legacy_magic = "CKS1";  ///< first bytes of a pre-database key file
constexpr std::string_view legacy_suffix = ".key";
constexpr size_t max_legacy_file = 1024 * 1024;
constexpr std::string_view kek_magic = "CKK1";  ///< a blob that names its KEK
constexpr size_t kek_tag_size = 8;              ///< bytes of SHA-256(KEK) a blob records

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

std::string certificate_key_id(std::string_view certificate_id, std::string_view version_id) {
  return std::string(certificate_id) + "." + std::string(version_id);
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
  return load_key_file(path);
}

crypto_result<aead_key> load_key_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return crypto_error{"key file " + path + ": cannot stat"};
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return crypto_error{"key file " + path + " is accessible by group or others (mode " + mode +
                        "); run chmod 600 on it"};
  }
  auto data = read_file(path, 4096);
  if (!data) return crypto_error{"key file: " + data.error().message};
  if (data.value().size() != aead_key_size)
    return crypto_error{"key file " + path + " must be exactly 32 bytes, found " +
                        std::to_string(data.value().size())};
  aead_key key{};
  std::copy(data.value().begin(), data.value().end(), key.begin());
  return key;
}

std::string kek_id(const aead_key& key) {
  const auto digest =
      sha256_of(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
  return to_hex(digest).substr(0, kek_tag_size * 2);
}

struct key_store::impl {
  std::string db_path;
  aead_key key;
  std::vector<aead_key> previous;  ///< shared stores: KEKs that only open
  bool tagged = false;             ///< blobs carry their KEK's tag (shared stores)
  std::unique_ptr<detail::sealed_table> db;

  static bytes tag_of(const aead_key& k) {
    const auto d = sha256_of(std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
    return bytes(d.begin(), d.begin() + kek_tag_size);
  }

  crypto_result<bytes> seal(std::string_view id, std::string_view secret) const {
    auto sealed = aead_seal(key, secret, associated_data(id));
    if (!sealed || !tagged) return sealed;
    const bytes tag = tag_of(key);
    bytes out;
    out.reserve(kek_magic.size() + tag.size() + sealed.value().size());
    for (char c : kek_magic) out.push_back(static_cast<std::uint8_t>(c));
    for (auto b : tag) out.push_back(b);
    for (auto b : sealed.value()) out.push_back(b);
    return out;
  }

  /// Which KEK sealed `blob` (nullptr: none we hold) and the ciphertext behind the tag.
  /// Untagged blobs (a local store) are sealed under the current key.
  const aead_key* kek_of(const bytes& blob, bytes& body) const {
    const bool has_tag = blob.size() > kek_magic.size() + kek_tag_size &&
                         std::equal(kek_magic.begin(), kek_magic.end(), blob.begin());
    if (!has_tag) {
      body = blob;
      return &key;
    }
    const auto tag_begin = blob.begin() + static_cast<std::ptrdiff_t>(kek_magic.size());
    const auto tag_end = tag_begin + static_cast<std::ptrdiff_t>(kek_tag_size);
    body.assign(tag_end, blob.end());
    if (std::equal(tag_begin, tag_end, tag_of(key).begin())) return &key;
    for (const auto& k : previous)
      if (std::equal(tag_begin, tag_end, tag_of(k).begin())) return &k;
    return nullptr;
  }
};

namespace {

/// Copies `<dir>/<id>.key` files of earlier versions into the database (their sealed bytes and
/// associated data are unchanged, so no re-encryption), then deletes them. A row already in
/// the database wins: it can only have been written by this version, later than the file.
crypto_result<done> import_legacy_files(const std::string& dir, sealed_db& db) {
  std::vector<std::string> files;
  std::vector<sealed_db::write> writes;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return crypto_error{"key store: cannot list " + dir};
  for (const dirent* e = ::readdir(d); e != nullptr; e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.size() <= legacy_suffix.size() ||
        name.compare(name.size() - legacy_suffix.size(), legacy_suffix.size(), legacy_suffix) != 0)
      continue;
    const std::string id = name.substr(0, name.size() - legacy_suffix.size());
    if (!valid_key_id(id)) continue;
    const std::string path = dir + "/" + name;
    auto data = read_file(path, max_legacy_file);
    if (!data) {
      ::closedir(d);
      return crypto_error{"key store: import " + path + ": " + data.error().message};
    }
    if (data.value().compare(0, legacy_magic.size(), legacy_magic) != 0) continue;  // not ours
    const std::string& f = data.value();
    writes.push_back({sealed_db::write_kind::insert_new,
                      id,
                      bytes(f.begin() + static_cast<std::ptrdiff_t>(legacy_magic.size()), f.end()),
                      {}});
    files.push_back(path);
  }
  ::closedir(d);
  if (writes.empty()) return done{};
  if (auto r = db.apply(std::move(writes)); !r) return r.error();
  // Only now that the rows are durable may the files go.
  for (const auto& f : files)
    if (::unlink(f.c_str()) != 0) return crypto_error{"key store: cannot remove imported " + f};
  return sync_directory(dir);
}

}  // namespace

key_store::key_store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
key_store::key_store(key_store&&) noexcept = default;
key_store& key_store::operator=(key_store&&) noexcept = default;
key_store::~key_store() = default;

crypto_result<key_store> key_store::open(std::string directory, const aead_key& master_key) {
  if (auto r = ensure_private_directory(directory); !r)
    return crypto_error{"key store: " + r.error().message};
  auto p = std::make_unique<impl>();
  p->db_path = directory + "/keys.db";
  p->key = master_key;
  auto db = sealed_db::open(p->db_path);
  if (!db) return db.error();
  if (auto r = import_legacy_files(directory, *db.value()); !r) return r.error();
  p->db = std::move(db).value();
  return key_store(std::move(p));
}

crypto_result<key_store> key_store::open_shared(std::shared_ptr<sql::database> db,
                                                key_encryption_keys keks) {
  auto table = detail::shared_sealed_table::open(std::move(db));
  if (!table) return table.error();
  auto p = std::make_unique<impl>();
  p->key = keks.current;
  p->previous = std::move(keks.previous);
  p->tagged = true;
  p->db_path = table.value()->location();
  p->db = std::move(table).value();
  return key_store(std::move(p));
}

std::string key_store::path_of(std::string_view /*id*/) const {
  return impl_->db_path;
}

const std::string& key_store::database_path() const {
  return impl_->db_path;
}

crypto_result<done> key_store::put(std::string_view id, std::string_view secret_pem) {
  if (!valid_key_id(id)) return bad_id(id);
  if (secret_pem.size() > max_secret_size)
    return crypto_error{"key store: secret larger than the " + std::to_string(max_secret_size) +
                        " byte limit"};
  // Sealed on the caller's thread, so the group commit holds only ciphertext and does no crypto.
  auto sealed = impl_->seal(id, secret_pem);
  if (!sealed) return crypto_error{"key store: " + sealed.error().message};
  std::vector<sealed_db::write> w;
  w.push_back({sealed_db::write_kind::upsert, std::string(id), std::move(sealed).value(), {}});
  return impl_->db->apply(std::move(w));
}

crypto_result<std::string> key_store::get(std::string_view id) const {
  if (!valid_key_id(id)) return bad_id(id);
  auto found = impl_->db->find(id);
  if (!found) return found.error();
  if (!found.value()) return crypto_error{"key store: no key with id \"" + std::string(id) + "\""};
  const bytes& blob = *found.value();
  bytes body;
  const aead_key* kek = impl_->kek_of(blob, body);
  if (kek == nullptr)
    return crypto_error{"key store: key \"" + std::string(id) +
                        "\" is sealed under a key-encryption key this node was not given"};
  auto opened = aead_open(*kek, body, associated_data(id));
  if (!opened)
    return crypto_error{"key store: key \"" + std::string(id) + "\": " + opened.error().message};
  if (kek != &impl_->key) {
    // Lazy re-seal under the current KEK. A failure leaves the old blob, still readable; a
    // concurrent put wins (the row no longer holds what we read).
    if (auto resealed = impl_->seal(id, opened.value())) {
      std::vector<sealed_db::write> w;
      w.push_back({sealed_db::write_kind::replace_if_equal, std::string(id),
                   std::move(resealed).value(), blob});
      (void)impl_->db->apply(std::move(w));
    }
  }
  return std::move(opened).value();
}

crypto_result<size_t> key_store::reseal_all() {
  auto ids = impl_->db->ids();
  if (!ids) return ids.error();
  size_t rewritten = 0;
  for (const auto& id : ids.value()) {
    auto found = impl_->db->find(id);
    if (!found) return found.error();
    if (!found.value()) continue;  // removed meanwhile
    bytes body;
    const aead_key* kek = impl_->kek_of(*found.value(), body);
    if (kek == &impl_->key) continue;
    if (kek == nullptr)
      return crypto_error{"key store: key \"" + id +
                          "\" is sealed under a key-encryption key this node was not given"};
    auto opened = aead_open(*kek, body, associated_data(id));
    if (!opened) return crypto_error{"key store: key \"" + id + "\": " + opened.error().message};
    auto resealed = impl_->seal(id, opened.value());
    if (!resealed) return resealed.error();
    std::vector<sealed_db::write> w;
    w.push_back(
        {sealed_db::write_kind::replace_if_equal, id, std::move(resealed).value(), *found.value()});
    if (auto r = impl_->db->apply(std::move(w)); !r) return r.error();
    ++rewritten;
  }
  return rewritten;
}

crypto_result<done> key_store::remove(std::string_view id) {
  if (!valid_key_id(id)) return bad_id(id);
  std::vector<sealed_db::write> w;
  w.push_back({sealed_db::write_kind::erase, std::string(id), {}, {}});
  return impl_->db->apply(std::move(w));
}

bool key_store::contains(std::string_view id) const {
  if (!valid_key_id(id)) return false;
  auto found = impl_->db->contains(id);
  return found.ok() && found.value();
}

}  // namespace certctl::crypto
