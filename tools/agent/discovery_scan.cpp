#include "tools/agent/discovery_scan.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "events/time.hpp"
#include "infra/crypto/certificate.hpp"

namespace certctl::agent {
namespace fs = std::filesystem;

namespace {

bool wanted_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".pem" || ext == ".crt" || ext == ".cer" || ext == ".cert" || ext == ".der";
}

constexpr const char* begin_marker = "-----BEGIN CERTIFICATE-----";
constexpr const char* end_marker = "-----END CERTIFICATE-----";

}  // namespace

std::vector<found_certificate> certificates_in(const std::string& path, const std::string& bytes,
                                               std::string& error) {
  std::vector<found_certificate> out;
  error.clear();
  if (bytes.find("-----BEGIN ") != std::string::npos) {
    // Only CERTIFICATE blocks are cut out: a private key in the same file is never parsed,
    // copied or sent.
    size_t at = 0, bad = 0;
    while ((at = bytes.find(begin_marker, at)) != std::string::npos) {
      const size_t end = bytes.find(end_marker, at);
      if (end == std::string::npos) {
        ++bad;
        break;
      }
      const std::string block = bytes.substr(at, end + std::string(end_marker).size() - at) + "\n";
      at = end;
      auto der = crypto::certificate_pem_to_der(block);
      auto pem = der ? crypto::certificate_der_to_pem(*der)
                     : crypto::crypto_result<std::string>(der.error());
      if (!pem) {
        ++bad;
        continue;
      }
      out.push_back({path, "PEM", *pem});
    }
    if (out.empty())
      error = bad > 0 ? "no readable certificate in its PEM blocks" : "no CERTIFICATE block";
    return out;
  }
  crypto::bytes der(bytes.begin(), bytes.end());
  auto pem = crypto::certificate_der_to_pem(der);
  if (!pem) {
    error = "neither PEM nor a DER certificate";
    return out;
  }
  out.push_back({path, "DER", *pem});
  return out;
}

scan_outcome scan_directories(const std::vector<std::string>& directories) {
  scan_outcome s;
  s.directories = directories;
  const auto began = std::chrono::system_clock::now();
  s.started_at = events::format_rfc3339(
      std::chrono::duration_cast<std::chrono::microseconds>(began.time_since_epoch()).count());
  size_t files = 0;
  for (const auto& dir : directories) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      s.errors.push_back(dir + ": not a readable directory");
      continue;
    }
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      s.errors.push_back(dir + ": " + ec.message());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) {
        s.errors.push_back(dir + ": " + ec.message());
        break;
      }
      const fs::path p = it->path();
      std::error_code fec;
      if (!it->is_regular_file(fec) || !wanted_extension(p)) continue;
      if (++files > max_discovery_files) {
        s.errors.push_back(dir + ": stopped after " + std::to_string(max_discovery_files) +
                           " files");
        break;
      }
      const auto size = fs::file_size(p, fec);
      if (fec) {
        s.errors.push_back(p.string() + ": " + fec.message());
        continue;
      }
      if (size > max_discovery_file_bytes) {
        s.errors.push_back(p.string() + ": larger than " +
                           std::to_string(max_discovery_file_bytes) + " bytes, skipped");
        continue;
      }
      std::ifstream in(p, std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!in.good() && !in.eof()) {
        s.errors.push_back(p.string() + ": cannot be read");
        continue;
      }
      std::string error;
      auto certs = certificates_in(p.string(), bytes, error);
      if (!error.empty()) s.errors.push_back(p.string() + ": " + error);
      s.found.insert(s.found.end(), certs.begin(), certs.end());
    }
  }
  s.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now() - began)
                      .count();
  return s;
}

}  // namespace certctl::agent
