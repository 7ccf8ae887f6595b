#pragma once
/// What curl cannot do for the EST tests: an enrollment whose CSR carries the RFC 9266
/// tls-exporter value of the very TLS 1.3 connection it is sent on (channel binding).

#include <functional>
#include <string>

namespace certctl::integration {

struct bound_response {
  int status = 0;  ///< 0 when the exchange failed; `body` then says why
  std::string body;
};

/// Connects to 127.0.0.1:`port` with TLS 1.3 and the client certificate, asks
/// `make_csr(base64 tls-exporter)` for the CSR body (built once the exporter is known), and
/// POSTs it to `path` on the same connection.
bound_response post_channel_bound(int port, const std::string& ca_file,
                                  const std::string& cert_file, const std::string& key_file,
                                  const std::string& path,
                                  const std::function<std::string(const std::string&)>& make_csr);

}  // namespace certctl::integration
