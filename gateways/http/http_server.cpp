#include "gateways/http/http_server.hpp"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <atomic>
#include <thread>

#include "gateways/http/router.hpp"

namespace certctl::gateways::http {
namespace {

/// Header lines and query parameters one request may carry. cpp-httplib 0.11 caps each header
/// line (8 KiB) and the request target (8 KiB, 414) but not how many headers there are; no
/// client of ours sends more than ~20 headers or ~10 query parameters.
constexpr std::size_t max_request_headers = 100;
constexpr std::size_t max_query_parameters = 100;

/// The OpenSSL error queue as text, so a bad certificate or key is reported precisely.
std::string drain_openssl_errors() {
  std::string out;
  while (const unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string("unknown error") : out;
}

/// RFC 9266 §2: the channel binding is the 32-byte exporter "EXPORTER-Channel-Binding" with
/// an empty context, defined for TLS 1.3 only.
std::string tls_exporter_of(SSL* ssl) {
  if (SSL_version(ssl) != TLS1_3_VERSION) return {};
  static constexpr char label[] = "EXPORTER-Channel-Binding";
  unsigned char out[32];
  if (SSL_export_keying_material(ssl, out, sizeof out, label, sizeof label - 1, nullptr, 0, 1) !=
      1) {
    ERR_clear_error();
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string der_of(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

/// The client's certificate chain (leaf first) and the connection's tls-exporter value.
void add_client_identity(const httplib::Request& req, raw_request& r) {
  // httplib hands the connection as const; the exporter call only reads the session's secrets.
  SSL* ssl = const_cast<SSL*>(req.ssl);
  if (ssl == nullptr) return;
  r.tls_exporter = tls_exporter_of(ssl);
  X509* leaf = SSL_get0_peer_certificate(ssl);
  if (leaf == nullptr) return;
  r.peer_certificates.push_back(der_of(leaf));
  // On the server side the peer chain excludes the leaf.
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl))
    for (int i = 0; i < sk_X509_num(chain); ++i)
      r.peer_certificates.push_back(der_of(sk_X509_value(chain, i)));
}

raw_request to_raw(const httplib::Request& req, bool tls, bool client_identity) {
  raw_request r;
  r.method = req.method;
  r.path = req.path;
  r.query.insert(req.params.begin(), req.params.end());
  for (const auto& [name, value] : req.headers) {
    // httplib injects the peer address as pseudo-headers; the typed field below is authoritative
    // and a client-sent header of the same name must not be mistaken for it.
    if (name == "REMOTE_ADDR" || name == "REMOTE_PORT" || name == "LOCAL_ADDR" ||
        name == "LOCAL_PORT") {
      continue;
    }
    r.headers.emplace(name, value);
  }
  r.body = req.body;
  r.remote_addr = req.remote_addr;
  r.tls = tls;
  if (tls && client_identity) add_client_identity(req, r);
  return r;
}

/// Hands a streamed body to httplib as a chunked content provider. httplib calls the provider
/// in a loop on the worker thread and checks for server shutdown between calls.
void apply_stream(body_producer producer, const std::string& content_type, httplib::Response& to) {
  to.set_chunked_content_provider(
      content_type, [producer = std::move(producer)](size_t, httplib::DataSink& sink) {
        const chunk_writer write = [&sink](std::string_view chunk) {
          return chunk.empty() || sink.write(chunk.data(), chunk.size());
        };
        stream_step step = stream_step::abort;
        try {
          step = producer(write);
        } catch (...) {
          // An exception must not escape into httplib's worker thread (std::terminate); the
          // headers are gone already, so the only honest answer is to cut the connection.
        }
        switch (step) {
          case stream_step::more:
            return true;
          case stream_step::end:
            sink.done();
            return true;
          case stream_step::abort:
            break;
        }
        return false;
      });
}

void apply(const response& from, httplib::Response& to) {
  to.status = from.status;
  for (const auto& [name, value] : from.headers) to.set_header(name, value);
  if (from.stream && from.status == 200 && !from.error) {
    apply_stream(from.stream, from.content_type, to);
  } else if (from.status != 204 && from.status != 304) {
    to.set_content(from.body, from.content_type);
  }
}

/// TLS policy on top of httplib's defaults: 1.2 minimum, no renegotiation, forward-secret AEAD
/// suites for 1.2 (1.3 suites are all fine), and a key that matches the certificate.
certctl::result<done, server_error> harden(SSL_CTX* ctx) {
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return server_error{"set TLS 1.2 minimum: " + drain_openssl_errors()};
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20") != 1) {
    return server_error{"set TLS 1.2 cipher suites: " + drain_openssl_errors()};
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return server_error{"TLS private key does not match the certificate: " +
                        drain_openssl_errors()};
  }
  return done{};
}

}  // namespace

dispatcher dispatch_to(const router& r) {
  return dispatcher{
      [&r](const raw_request& req) { return r.handle(req); },
      [&r](const raw_request& req, int status) { return r.transport_error(req, status); }};
}

struct http_server::impl {
  server_config config;
  dispatcher d;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::atomic<bool> loop_exited{false};
  int port = 0;
};

http_server::http_server(server_config config, dispatcher d) : impl_(std::make_unique<impl>()) {
  impl_->config = std::move(config);
  impl_->d = std::move(d);
}

http_server::~http_server() {
  stop();
}

certctl::result<done, server_error> http_server::start() {
  auto& m = *impl_;
  if (m.server) return server_error{"server already started"};
  const auto& c = m.config;
  if (!m.d.handle || !m.d.transport_error) return server_error{"no dispatcher"};

  std::unique_ptr<httplib::Server> s;
  if (c.tls) {
    if (c.cert_file.empty() || c.key_file.empty()) {
      return server_error{"TLS needs a certificate file and a key file"};
    }
    ERR_clear_error();
    auto ssl = std::make_unique<httplib::SSLServer>(c.cert_file.c_str(), c.key_file.c_str());
    if (!ssl->is_valid()) {
      return server_error{"load TLS certificate " + c.cert_file + " and key " + c.key_file + ": " +
                          drain_openssl_errors()};
    }
    if (auto h = harden(ssl->ssl_context()); !h) return h.error();
    if (c.request_client_certificates) {
      // Optional and unverified here: the routes that use a client certificate check it
      // against their own (reloadable) trust anchors; every other route ignores it.
      SSL_CTX_set_verify(ssl->ssl_context(), SSL_VERIFY_PEER,
                         [](int, X509_STORE_CTX*) { return 1; });
      // Under SSL_VERIFY_PEER OpenSSL aborts every session resumption (alert "internal
      // error") unless the context names its sessions; clients that resume would fail on
      // each reconnect.
      static constexpr unsigned char session_context[] = "certctl-https";
      if (SSL_CTX_set_session_id_context(ssl->ssl_context(), session_context,
                                         sizeof session_context - 1) != 1)
        return server_error{"set TLS session id context: " + drain_openssl_errors()};
    }
    s = std::move(ssl);
  } else {
    s = std::make_unique<httplib::Server>();
  }

  const std::size_t threads = c.threads == 0 ? 1 : c.threads;
  s->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s->set_tcp_nodelay(true);
  s->set_keep_alive_max_count(c.keep_alive_max_count);
  s->set_keep_alive_timeout(static_cast<time_t>(c.keep_alive_timeout.count()));
  s->set_read_timeout(static_cast<time_t>(c.read_timeout.count()));
  s->set_write_timeout(static_cast<time_t>(c.write_timeout.count()));
  s->set_payload_max_length(c.max_body_bytes);

  const bool tls = c.tls;
  const bool identity = c.request_client_certificates;
  const dispatcher* d = &m.d;
  auto serve = [d, tls, identity](const httplib::Request& req, httplib::Response& res) {
    apply(d->handle(to_raw(req, tls, identity)), res);
  };
  // One catch-all per method: routing is ours (path params, 404 vs 405, auth), and a regular
  // handler (unlike the pre-routing hook) runs after httplib has read and size-checked the body.
  const std::string any = ".*";
  s->Get(any, serve).Post(any, serve).Put(any, serve).Patch(any, serve).Delete(any, serve);
  s->Options(any, serve);
  // Errors httplib produces before our handler runs (413 body too large, 400 bad request line)
  // get the same body and headers. Responses we built already carry X-Request-Id.
  s->set_error_handler(httplib::Server::HandlerWithResponse(
      [d, tls](const httplib::Request& req, httplib::Response& res) {
        if (res.has_header("X-Request-Id")) return httplib::Server::HandlerResponse::Unhandled;
        apply(d->transport_error(to_raw(req, tls, false), res.status), res);
        return httplib::Server::HandlerResponse::Handled;
      }));
  // Counts checked before any route runs: 431 for too many header lines, 414 for too many
  // query parameters (docs/security-limits.md).
  s->set_pre_routing_handler([d, tls](const httplib::Request& req, httplib::Response& res) {
    int status = 0;
    if (req.headers.size() > max_request_headers)
      status = 431;
    else if (req.params.size() > max_query_parameters)
      status = 414;
    if (status == 0) return httplib::Server::HandlerResponse::Unhandled;
    apply(d->transport_error(to_raw(req, tls, false), status), res);
    res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  });
  s->set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;  // unreachable in practice: dispatchers do not throw
  });

  int port = c.port;
  if (port == 0) {
    port = s->bind_to_any_port(c.host);
    if (port < 0) return server_error{"bind " + c.host + " on a free port failed"};
  } else if (!s->bind_to_port(c.host, port)) {
    return server_error{"bind " + c.host + ":" + std::to_string(port) +
                        " failed (address in use, or not permitted)"};
  }
  m.port = port;
  m.loop_exited = false;
  httplib::Server* raw = s.get();
  m.server = std::move(s);
  m.thread = std::thread([raw, &m] {
    raw->listen_after_bind();
    m.loop_exited = true;
  });
  // The socket already listens (connections queue in the backlog), but httplib's stop() is a
  // no-op until its accept loop runs, so wait for that to keep stop() reliable.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!raw->is_running() && !m.loop_exited && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!raw->is_running()) {
    stop();
    return server_error{"HTTP server on " + c.host + ":" + std::to_string(port) + " did not start"};
  }
  return done{};
}

void http_server::stop() {
  auto& m = *impl_;
  if (!m.server) return;
  // httplib's stop() only acts once its accept loop runs (it may still be starting).
  while (m.thread.joinable() && !m.loop_exited && !m.server->is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  m.server->stop();
  if (m.thread.joinable()) m.thread.join();
  m.server.reset();
  m.port = 0;
}

int http_server::port() const {
  return impl_->port;
}

bool http_server::running() const {
  return impl_->server && impl_->server->is_running();
}

const server_config& http_server::config() const {
  return impl_->config;
}

}  // namespace certctl::gateways::http
