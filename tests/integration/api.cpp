#include "tests/integration/api.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <strings.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <thread>

namespace certctl::integration {
namespace {

std::atomic<int> capture_seq{0};

/// Writes one captured exchange for spec_check.py: {"method","path","status","body"}.
void capture(const std::string& method, const std::string& path, const api_response& r) {
  const char* dir = std::getenv("CERTCTL_IT_CAPTURE_DIR");
  if (dir == nullptr || *dir == '\0' || r.status == 0) return;
  if (r.header("Content-Type").rfind("application/json", 0) != 0) return;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  const std::string bare = path.substr(0, path.find('?'));
  w.StartObject();
  w.Key("method");
  w.String(method.c_str());
  w.Key("path");
  w.String(bare.c_str());
  w.Key("status");
  w.Int(r.status);
  w.Key("body");
  w.String(r.body.data(), static_cast<rapidjson::SizeType>(r.body.size()));
  w.EndObject();
  // The pid keeps captures of different test processes from overwriting each other.
  const std::string file = std::string(dir) + "/" + std::to_string(::getpid()) + "-" +
                           std::to_string(++capture_seq) + ".json";
  write_file(file, buf.GetString());
}

}  // namespace

rapidjson::Document api_response::json() const {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError(), "response is not JSON: " + describe());
  return d;
}

std::string api_response::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (::strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

std::int64_t api_response::position() const {
  const auto v = header("X-Certctl-Position");
  return v.empty() ? 0 : std::stoll(v);
}

std::string api_response::describe() const {
  if (status == 0) return "transport error: " + transport_error;
  return "status " + std::to_string(status) + ": " + body.substr(0, 2000);
}

api::api(const server_process& server, const std::string& api_key)
    : client_(server.client(api_key)) {}

api_response api::get(const std::string& path, std::int64_t wait_position) {
  httplib::Headers h;
  if (wait_position > 0) h.emplace("X-Certctl-Wait-For-Position", std::to_string(wait_position));
  auto r = client_->Get(path.c_str(), h);
  // A keep-alive connection the server closed just as the request went out fails with Read
  // before the server saw it. A GET changes nothing, so it is sent once more on a fresh
  // connection; a server that is down or hung fails the second attempt too.
  if (!r && r.error() == httplib::Error::Read) r = client_->Get(path.c_str(), h);
  return finish("GET", path, std::move(r));
}

api_response api::post(const std::string& path, const std::string& body,
                       const std::string& content_type) {
  return finish("POST", path, client_->Post(path.c_str(), body, content_type.c_str()));
}

api_response api::put(const std::string& path, const std::string& body) {
  return finish("PUT", path, client_->Put(path.c_str(), body, "application/json"));
}

api_response api::del(const std::string& path) {
  return finish("DELETE", path, client_->Delete(path.c_str()));
}

api_response api::finish(const std::string& method, const std::string& path, httplib::Result r) {
  api_response out;
  if (!r) {
    out.transport_error = httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  capture(method, path, out);
  return out;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

rapidjson::Document wait_for_certificate(api& client, const std::string& id,
                                         std::initializer_list<const char*> wanted,
                                         std::chrono::milliseconds timeout,
                                         std::int64_t wait_position) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = client.get("/api/v1/certificates/" + id, wait_position);
    // Without a position to wait for, the read model may not have the certificate yet.
    if (r.status == 404 && wait_position == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    BOOST_REQUIRE_MESSAGE(r.status == 200, "GET certificate " + id + ": " + r.describe());
    auto doc = r.json();
    const std::string status = str(doc, "status");
    for (const char* w : wanted)
      if (status == w) return doc;
    if (std::chrono::steady_clock::now() > deadline) {
      BOOST_FAIL("certificate " + id + " still " + status + " after " +
                 std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool issued_once_with_unique_serials(api& client, const std::string& id,
                                     std::map<std::string, std::string>& serial_owner) {
  auto vr = client.get("/api/v1/certificates/" + id + "/versions?per_page=50");
  BOOST_REQUIRE_MESSAGE(vr.status == 200, vr.describe());
  auto versions = vr.json();
  const auto n = versions["data"].GetArray().Size();
  BOOST_TEST(n == 1u, id << " has " << n << " versions");
  for (const auto& v : versions["data"].GetArray()) {
    auto [it, fresh] = serial_owner.emplace(str(v, "serial_number"), id);
    BOOST_TEST(fresh, "serial " << it->first << " of " << id << " also belongs to " << it->second);
  }
  return n == 1;
}

std::string certificate_body(const std::string& name, const std::string& common_name,
                             std::initializer_list<const char*> sans,
                             const std::string& renewal_policy_id) {
  std::string s = "[";
  for (const char* san : sans) s += std::string(s.size() > 1 ? "," : "") + "\"" + san + "\"";
  s += "]";
  return R"({"name":")" + name + R"(","common_name":")" + common_name + R"(","sans":)" + s +
         R"(,"renewal_policy_id":")" + renewal_policy_id +
         R"(","issuer_id":"iss-local","owner_id":"owner-it","team_id":"team-it","environment":"test"})";
}

}  // namespace certctl::integration
