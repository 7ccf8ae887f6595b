#include "tests/gateways/http/server_fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "gateways/http/health_routes.hpp"
#include "gateways/http/json.hpp"
#include "gateways/http/pagination.hpp"
#include "gateways/http/position.hpp"

namespace certctl::gateways::http::testing {

temp_dir::temp_dir() {
  std::string tmpl = "/tmp/certctl-gw-test-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path = tmpl;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

test_certificate::test_certificate(const std::string& dir)
    : cert_file(dir + "/cert.pem"), key_file(dir + "/key.pem") {
  const auto r = run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
      " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
      key_file + " -out " + cert_file);
  if (r.exit_code != 0) throw std::runtime_error("openssl req failed: " + r.out);
}

test_server::test_server(bool tls, std::size_t max_body_bytes, router_options extra) : tls_(tls) {
  if (tls_) cert_ = std::make_unique<test_certificate>(dir_.path);
  auto keys = parse_named_keys(std::string("adm:") + admin_key + ":admin, ops:" + operator_key +
                               ", dash:" + viewer_key + ":viewer");
  BOOST_REQUIRE(keys.ok());
  extra.on_auth_failure = [this](const auth_event& e) {
    std::lock_guard lock(mutex_);
    auth_events_.push_back(e);
  };
  extra.on_request = [this](const request_log_entry& e) {
    std::lock_guard lock(mutex_);
    log_.push_back(e);
  };
  router_ = std::make_unique<router>(key_store::from_named_keys(*keys), std::move(extra));
  auto& r = *router_;

  health_options health;
  health.ready_check = [this] {
    std::lock_guard lock(mutex_);
    return readiness{ready_, not_ready_message_};
  };
  health.version.version = "v9.9.9";
  add_health_routes(r, std::move(health));

  r.add("GET", "/api/v1/things", role::viewer, [](request_context& ctx) {
    auto page = parse_page_params(ctx.query_params());
    if (!page) return to_response(page.error());
    return json_response(render_page(std::vector<std::string>{"{\"n\":1}"}, 1, *page));
  });
  const std::size_t max_json = max_body_bytes;
  r.add("POST", "/api/v1/things", role::operator_, [max_json](request_context& ctx) {
    auto doc = parse_json(ctx.body(), max_json);
    if (!doc) return to_response(doc.error());
    field_reader in(*doc);
    const auto cn = in.required_string("common_name");
    const auto sans = in.string_array("sans");
    if (!in.ok()) return to_response(*in.error());
    json_writer w;
    w.begin_object().field("common_name", cn).field("sans", static_cast<int>(sans.size()));
    w.end_object();
    auto res = json_response(w.str(), 201);
    set_position(res, 42);
    return res;
  });
  r.add("GET", "/api/v1/things/{id}", role::viewer, [](request_context& ctx) {
    json_writer w;
    w.begin_object().field("id", ctx.path_param("id")).field("principal", ctx.who.name);
    w.end_object();
    return json_response(w.str());
  });
  r.add("DELETE", "/api/v1/things/{id}", role::admin, [](request_context&) {
    response res;
    res.status = 204;
    return res;
  });
  r.add("GET", "/api/v1/boom", role::viewer,
        [](request_context&) -> response { throw std::runtime_error("secret internal detail"); });
  BOOST_REQUIRE(!r.registration_error());

  server_config c;
  c.tls = tls_;
  if (tls_) {
    c.cert_file = cert_->cert_file;
    c.key_file = cert_->key_file;
  }
  c.threads = 4;
  c.max_body_bytes = max_body_bytes;
  server_ = std::make_unique<http_server>(c, dispatch_to(r));
  auto started = server_->start();
  BOOST_REQUIRE_MESSAGE(started.ok(), (started.ok() ? "" : started.error().message));
}

test_server::~test_server() {
  server_->stop();
}

std::unique_ptr<httplib::Client> test_server::client() const {
  const std::string url =
      std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port());
  auto c = std::make_unique<httplib::Client>(url);
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(5);
  c->set_read_timeout(10);
  if (tls_) {
    c->set_ca_cert_path(cert_->cert_file.c_str());
    c->enable_server_certificate_verification(true);
  }
  return c;
}

void test_server::set_ready(bool ready, std::string message) {
  std::lock_guard lock(mutex_);
  ready_ = ready;
  not_ready_message_ = std::move(message);
}

std::vector<auth_event> test_server::auth_events() const {
  std::lock_guard lock(mutex_);
  return auth_events_;
}

std::vector<request_log_entry> test_server::log_entries() const {
  std::lock_guard lock(mutex_);
  return log_;
}

}  // namespace certctl::gateways::http::testing
