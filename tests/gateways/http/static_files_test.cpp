// The dashboard's static-file handler: only its paths, no way out of the directory, content
// types from a fixed table, caching by kind of file, and the strict security headers.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "gateways/http/static_files.hpp"

using namespace certctl::gateways::http;
namespace fs = std::filesystem;

namespace {

/// A built dashboard in a temp dir (index.html, one asset), next to a secret outside it.
struct site {
  site() {
    base = fs::temp_directory_path() / ("certctl-static-" + std::to_string(std::random_device{}()));
    root = base / "dist";
    fs::create_directories(root / "assets");
    write(root / "index.html", "<!doctype html><title>x</title>");
    write(root / "assets" / "index-abc123.js", "console.log(1)");
    write(root / "assets" / ".hidden", "no");
    write(base / "secret.txt", "secret");
    fs::create_symlink(base / "secret.txt", root / "assets" / "link.js");
  }
  ~site() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

  fs::path base, root;
};

raw_request req(const std::string& path, const std::string& method = "GET") {
  raw_request r;
  r.method = method;
  r.path = path;
  r.tls = true;
  return r;
}

std::string header(const response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(static_files_handler)

BOOST_FIXTURE_TEST_CASE(index_and_assets_are_served_with_their_types_and_caching, site) {
  static_files files(root.string());
  BOOST_REQUIRE(files.enabled());
  auto index = files.serve(req("/"));
  BOOST_TEST(index.status == 200);
  BOOST_TEST(index.content_type == "text/html; charset=utf-8");
  BOOST_TEST(index.body.find("<title>x</title>") != std::string::npos);
  BOOST_TEST(header(index, "Cache-Control") == "no-cache");
  auto js = files.serve(req("/assets/index-abc123.js"));
  BOOST_TEST(js.status == 200);
  BOOST_TEST(js.content_type == "text/javascript; charset=utf-8");
  BOOST_TEST(header(js, "Cache-Control") == "public, max-age=31536000, immutable");
}

BOOST_FIXTURE_TEST_CASE(every_answer_carries_the_strict_policy, site) {
  static_files files(root.string());
  for (const char* path : {"/", "/assets/index-abc123.js", "/assets/missing.js"}) {
    auto r = files.serve(req(path));
    BOOST_TEST(header(r, "Content-Security-Policy").rfind("default-src 'self'", 0) == 0u, path);
    BOOST_TEST(header(r, "Content-Security-Policy").find("frame-ancestors 'none'") !=
               std::string::npos);
    BOOST_TEST(header(r, "Content-Security-Policy").find("unsafe-inline") == std::string::npos);
    BOOST_TEST(header(r, "X-Content-Type-Options") == "nosniff");
    BOOST_TEST(header(r, "X-Frame-Options") == "DENY");
    BOOST_TEST(header(r, "Strict-Transport-Security") == "max-age=31536000");
  }
}

BOOST_FIXTURE_TEST_CASE(paths_leaving_the_directory_are_refused, site) {
  static_files files(root.string());
  for (const char* path :
       {"/assets/../../secret.txt", "/assets/../index.html", "/assets/./index-abc123.js",
        "/assets/..\\..\\secret.txt", "/assets//index-abc123.js", "/assets/", "/assets/.hidden",
        "/assets/link.js"}) {
    auto r = files.serve(req(path));
    BOOST_TEST(r.status == 404, path);
    BOOST_TEST(r.body.find("secret") == std::string::npos, path);
  }
  BOOST_TEST(files.serve(req(std::string("/assets/index-abc123.js\0x", 25))).status == 404);
}

BOOST_FIXTURE_TEST_CASE(only_dashboard_paths_and_reads_are_taken_from_the_api, site) {
  static_files files(root.string());
  BOOST_TEST(files.handles(req("/")));
  BOOST_TEST(files.handles(req("/assets/x.js", "HEAD")));
  BOOST_TEST(!files.handles(req("/", "POST")));
  BOOST_TEST(!files.handles(req("/api/v1/certificates")));
  BOOST_TEST(!files.handles(req("/health")));
  BOOST_TEST(!files.handles(req("/.well-known/pki/crl/iss-local")));

  dispatcher inner{[](const raw_request&) { return error_response(404, "api"); },
                   [](const raw_request&, int status) { return error_response(status, "t"); }};
  auto d = with_static_files(files, inner);
  BOOST_TEST(d.handle(req("/")).status == 200);
  BOOST_TEST(d.handle(req("/api/v1/x")).error.value_or("") == "api");
}

BOOST_AUTO_TEST_CASE(a_missing_build_serves_nothing) {
  static_files files("/nonexistent/certctl/dashboard");
  BOOST_TEST(!files.enabled());
  BOOST_TEST(!files.handles(req("/")));
}

BOOST_AUTO_TEST_CASE(content_types_come_from_a_fixed_table) {
  BOOST_TEST(content_type_for("a.css") == "text/css; charset=utf-8");
  BOOST_TEST(content_type_for("a.svg") == "image/svg+xml");
  BOOST_TEST(content_type_for("a.woff2") == "font/woff2");
  BOOST_TEST(content_type_for("a.exe") == "application/octet-stream");
}

BOOST_AUTO_TEST_SUITE_END()
