#pragma once
/// Filesystem discovery on the agent (issue 12 item 7): walks the --discovery-dirs
/// recursively for .pem .crt .cer .cert .der files (case-insensitive), reads each up to a size
/// cap, and extracts the certificates in it, PEM (every CERTIFICATE block; keys and other
/// blocks in the same file are skipped, never read out) or DER. Symlinked directories are not
/// followed (no loops); symlinked files are (the server deduplicates by fingerprint).

#include <cstdint>
#include <string>
#include <vector>

namespace certctl::agent {

/// Files larger than this are reported as errors, not read: certificate files are small.
inline constexpr std::uintmax_t max_discovery_file_bytes = 1 << 20;
/// Files looked at per scan, at most.
inline constexpr size_t max_discovery_files = 100000;

struct found_certificate {
  std::string path;
  std::string format;  ///< "PEM" or "DER"
  std::string pem;     ///< the certificate alone, normalised to PEM
};

struct scan_outcome {
  std::vector<std::string> directories;
  std::vector<found_certificate> found;
  std::vector<std::string> errors;  ///< "path: why" per unreadable directory or file
  std::int64_t duration_ms = 0;
  std::string started_at;  ///< RFC 3339
};

scan_outcome scan_directories(const std::vector<std::string>& directories);

/// The certificates in one file's bytes (PEM blocks or one DER certificate); an error message
/// when none could be read.
std::vector<found_certificate> certificates_in(const std::string& path, const std::string& bytes,
                                               std::string& error);

}  // namespace certctl::agent
