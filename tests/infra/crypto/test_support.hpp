#pragma once
/// Helpers for tests of crypto code: a private temp directory, file I/O, running the openssl
/// CLI (a peer program) and PEM <-> DER without going through the code under test.

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace certctl::test {

/// A fresh directory under /tmp, removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir() {
    char tmpl[] = "/tmp/certctl-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline unsigned file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0xffffffffu;
  return static_cast<unsigned>(st.st_mode & 07777);
}

struct command_result {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr together
};

/// Runs `command` through /bin/sh and captures its output.
inline command_result run(const std::string& command) {
  command_result r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// Base64 body of the first PEM block, decoded.
inline std::vector<std::uint8_t> pem_to_der(const std::string& pem) {
  const auto begin = pem.find("-----\n");
  const auto end = pem.find("-----END");
  std::string b64 = pem.substr(begin + 6, end - begin - 6);
  std::vector<std::uint8_t> out;
  unsigned acc = 0;
  int bits = 0;
  for (char c : b64) {
    int v = -1;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    if (c >= '0' && c <= '9') v = c - '0' + 52;
    if (c == '+') v = 62;
    if (c == '/') v = 63;
    if (v < 0) continue;  // newlines and '=' padding
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((acc >> bits) & 0xff));
    }
  }
  return out;
}

/// DER -> PEM with the given label ("CERTIFICATE REQUEST", ...).
inline std::string der_to_pem(const std::vector<std::uint8_t>& der, const std::string& label) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  size_t i = 0;
  for (; i + 2 < der.size(); i += 3) {
    const unsigned v = (der[i] << 16) | (der[i + 1] << 8) | der[i + 2];
    b64 += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
  }
  if (i + 1 == der.size()) {
    const unsigned v = der[i] << 16;
    b64 += {t[v >> 18], t[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == der.size()) {
    const unsigned v = (der[i] << 16) | (der[i + 1] << 8);
    b64 += {t[v >> 18], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
  }
  std::string pem = "-----BEGIN " + label + "-----\n";
  for (size_t p = 0; p < b64.size(); p += 64) pem += b64.substr(p, 64) + "\n";
  return pem + "-----END " + label + "-----\n";
}

}  // namespace certctl::test

/// Requires a result to be ok, printing its error message when it is not.
#define CERTCTL_REQUIRE_OK(r) \
  BOOST_REQUIRE_MESSAGE((r).ok(), ((r).ok() ? std::string() : (r).error().message))
