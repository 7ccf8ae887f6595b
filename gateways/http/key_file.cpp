#include "gateways/http/key_file.hpp"

#include <fcntl.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "infra/crypto/random.hpp"

namespace certctl::gateways::http {
namespace {

constexpr std::size_t max_key_file_bytes = 1 << 20;

std::string errno_text() {
  return std::strerror(errno);
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

/// write(2) until done; false on error.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

std::string parent_dir(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

/// mkdir -p; directories this creates get 0700 (the data dir holds secrets).
auth_result<done> make_dirs(const std::string& dir) {
  if (dir.empty()) return done{};
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return done{};
    return auth_config_error{"data directory " + dir + " exists and is not a directory"};
  }
  const std::string parent = parent_dir(dir);
  if (parent != dir) {
    auto r = make_dirs(parent);
    if (!r) return r;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return auth_config_error{"create data directory " + dir + ": " + errno_text()};
  }
  return done{};
}

}  // namespace

std::string key_file_path(const std::string& data_dir) {
  std::string p = data_dir.empty() ? std::string(".") : data_dir;
  if (p.back() != '/') p += '/';
  return p + std::string(key_file_name);
}

std::string generate_api_key() {
  return "cc_" + crypto::random_hex(32);
}

std::string render_key_file(const std::vector<api_key_record>& records) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.String("certctl-api-keys");
  w.Key("version");
  w.Int(1);
  w.Key("keys");
  w.StartArray();
  for (const auto& r : records) {
    const std::string salt_hex =
        crypto::to_hex(reinterpret_cast<const std::uint8_t*>(r.salt.data()), r.salt.size());
    const std::string hash_hex = crypto::to_hex(r.hash);
    const auto role_name = to_string(r.level);
    w.StartObject();
    w.Key("name");
    w.String(r.name.data(), static_cast<rapidjson::SizeType>(r.name.size()));
    w.Key("role");
    w.String(role_name.data(), static_cast<rapidjson::SizeType>(role_name.size()));
    w.Key("salt");
    w.String(salt_hex.data(), static_cast<rapidjson::SizeType>(salt_hex.size()));
    w.Key("sha256");
    w.String(hash_hex.data(), static_cast<rapidjson::SizeType>(hash_hex.size()));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

auth_result<key_store> parse_key_file(std::string_view text, const std::string& path) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  auto bad = [&](const std::string& what) { return auth_config_error{path + ": " + what}; };
  if (doc.HasParseError() || !doc.IsObject()) return bad("not a JSON object");
  if (!doc.HasMember("format") || !doc["format"].IsString() ||
      std::string_view(doc["format"].GetString()) != "certctl-api-keys") {
    return bad("missing \"format\": \"certctl-api-keys\"");
  }
  if (!doc.HasMember("version") || !doc["version"].IsInt() || doc["version"].GetInt() != 1) {
    return bad("unsupported version (expected 1)");
  }
  if (!doc.HasMember("keys") || !doc["keys"].IsArray()) return bad("\"keys\" must be an array");
  std::vector<api_key_record> records;
  std::size_t index = 0;
  for (const auto& k : doc["keys"].GetArray()) {
    ++index;
    const std::string where = "key " + std::to_string(index) + ": ";
    if (!k.IsObject()) return bad(where + "not an object");
    for (const char* f : {"name", "role", "salt", "sha256"}) {
      if (!k.HasMember(f) || !k[f].IsString()) {
        return bad(where + "field '" + f + "' must be a string");
      }
    }
    api_key_record r;
    r.name = k["name"].GetString();
    if (!is_valid_key_name(r.name)) return bad(where + "invalid name");
    const auto level = parse_role(k["role"].GetString());
    if (!level) return bad(where + "unknown role");
    r.level = *level;
    auto salt = from_hex(k["salt"].GetString());
    if (!salt || salt->size() != key_salt_bytes) return bad(where + "salt must be 32 hex digits");
    r.salt = std::move(*salt);
    auto hash = from_hex(k["sha256"].GetString());
    if (!hash || hash->size() != r.hash.size()) return bad(where + "sha256 must be 64 hex digits");
    std::memcpy(r.hash.data(), hash->data(), r.hash.size());
    records.push_back(std::move(r));
  }
  if (records.empty()) return bad("no keys");
  return key_store(std::move(records));
}

auth_result<key_store> load_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return auth_config_error{"open key file " + path + ": " + errno_text()};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return auth_config_error{"key file " + path + " is not a regular file"};
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    ::close(fd);
    return auth_config_error{"key file " + path +
                             " is writable by group or others; run chmod 600 on it"};
  }
  if (static_cast<std::size_t>(st.st_size) > max_key_file_bytes) {
    ::close(fd);
    return auth_config_error{"key file " + path + " is larger than 1 MiB"};
  }
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  return parse_key_file(text, path);
}

auth_result<bool> create_key_file(const std::string& path,
                                  const std::vector<api_key_record>& records) {
  // Write a private temp file, fsync it, then link(2) it into place: link never replaces, so of
  // two racing first starts exactly one wins, and readers never see a partial file.
  const std::string tmp = path + ".tmp-" + crypto::random_hex(8);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return auth_config_error{"create " + tmp + ": " + errno_text()};
  const std::string text = render_key_file(records);
  const bool written = ::fchmod(fd, 0600) == 0 && write_all(fd, text) && ::fsync(fd) == 0;
  const std::string write_error = errno_text();
  ::close(fd);
  if (!written) {
    ::unlink(tmp.c_str());
    return auth_config_error{"write " + tmp + ": " + write_error};
  }
  const int linked = ::link(tmp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (linked != 0) {
    if (link_errno == EEXIST) return false;
    return auth_config_error{"create key file " + path + ": " + std::strerror(link_errno)};
  }
  const int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // best effort: the file is complete either way; this makes the name durable
    ::close(dfd);
  }
  return true;
}

auth_result<key_bootstrap> bootstrap_keys(std::string_view configured,
                                          const std::string& data_dir) {
  const bool blank = configured.find_first_not_of(" \t\r\n,") == std::string_view::npos;
  if (!blank) {
    auto keys = parse_named_keys(configured);
    if (!keys) return keys.error();
    return key_bootstrap{key_store::from_named_keys(*keys), std::nullopt, "CERTCTL_API_KEYS_NAMED"};
  }
  const std::string path = key_file_path(data_dir);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    auto store = load_key_file(path);
    if (!store) return store.error();
    return key_bootstrap{std::move(*store), std::nullopt, path};
  }
  if (auto dirs = make_dirs(data_dir.empty() ? std::string(".") : data_dir); !dirs) {
    return dirs.error();
  }
  named_key k{std::string(generated_key_name), generate_api_key(), role::admin, {}};
  std::vector<api_key_record> records{hash_key(k)};
  auto created = create_key_file(path, records);
  if (!created) return created.error();
  if (!*created) {  // another process created it between our lstat and link
    auto store = load_key_file(path);
    if (!store) return store.error();
    return key_bootstrap{std::move(*store), std::nullopt, path};
  }
  return key_bootstrap{key_store(std::move(records)), std::move(k.key), path};
}

}  // namespace certctl::gateways::http
