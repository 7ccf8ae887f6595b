#include "tests/integration/est_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

namespace certctl::integration {

bound_response post_channel_bound(int port, const std::string& ca_file,
                                  const std::string& cert_file, const std::string& key_file,
                                  const std::string& path,
                                  const std::function<std::string(const std::string&)>& make_csr) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return {0, "TLS context setup failed"};
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return {0, "connect failed"};
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  SSL_set_fd(ssl.get(), fd);
  SSL_set_tlsext_host_name(ssl.get(), "localhost");
  bound_response out;
  if (SSL_connect(ssl.get()) != 1) {
    ::close(fd);
    return {0, "TLS handshake failed"};
  }
  static constexpr char label[] = "EXPORTER-Channel-Binding";
  unsigned char exporter[32];
  if (SSL_export_keying_material(ssl.get(), exporter, sizeof exporter, label, sizeof label - 1,
                                 nullptr, 0, 1) != 1) {
    ::close(fd);
    return {0, "tls-exporter failed"};
  }
  unsigned char b64[64];
  const int n = EVP_EncodeBlock(b64, exporter, sizeof exporter);
  const std::string body = make_csr(std::string(reinterpret_cast<char*>(b64), n));
  const std::string request = "POST " + path +
                              " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/pkcs10\r\n"
                              "Connection: close\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (SSL_write(ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
    ::close(fd);
    return {0, "write failed"};
  }
  std::string response;
  char buf[4096];
  for (;;) {
    const int got = SSL_read(ssl.get(), buf, sizeof buf);
    if (got <= 0) break;
    response.append(buf, static_cast<size_t>(got));
  }
  ::close(fd);
  if (response.rfind("HTTP/1.1 ", 0) != 0) return {0, "no HTTP response: " + response};
  out.status = std::stoi(response.substr(9, 3));
  const size_t split = response.find("\r\n\r\n");
  out.body = split == std::string::npos ? "" : response.substr(split + 4);
  return out;
}

}  // namespace certctl::integration
