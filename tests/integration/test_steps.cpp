#include "tests/integration/test_steps.hpp"

#include <boost/test/unit_test.hpp>
#include <thread>

namespace certctl::integration {
namespace {

using steady = std::chrono::steady_clock;
constexpr auto poll_interval = std::chrono::milliseconds(20);

}  // namespace

std::string issue_active(api& client, const std::string& body) {
  auto created = client.post("/api/v1/certificates", body);
  BOOST_REQUIRE_MESSAGE(created.status == 201, created.describe());
  auto doc = created.json();
  BOOST_TEST(str(doc, "status") == "Pending");
  const std::string id = str(doc, "id");
  wait_for_certificate(client, id, {"Active"}, std::chrono::seconds(30), created.position());
  return id;
}

void wait_for_versions(api& client, const std::string& id, size_t count, std::int64_t wait_position,
                       std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto r = client.get("/api/v1/certificates/" + id + "/versions", wait_position);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    const size_t have = doc["data"].GetArray().Size();
    if (have >= count) return;
    if (steady::now() > deadline)
      BOOST_FAIL("certificate " + id + " has " + std::to_string(have) + " versions, expected " +
                 std::to_string(count));
    std::this_thread::sleep_for(poll_interval);
  }
}

rapidjson::Document wait_for_work(api& client, const std::string& agent_id,
                                  const std::string& certificate_id,
                                  std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto r = client.get("/api/v1/agents/" + agent_id + "/work");
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
    auto doc = r.json();
    for (auto& job : doc["jobs"].GetArray()) {
      // The certificate projection may trail the job's: wait for the joined common_name too.
      if (str(job, "certificate_id") == certificate_id && !str(job, "common_name").empty()) {
        rapidjson::Document out;
        out.CopyFrom(job, out.GetAllocator());
        return out;
      }
    }
    if (steady::now() > deadline)
      BOOST_FAIL("agent " + agent_id + " was never offered " + certificate_id + ": " + r.body);
    std::this_thread::sleep_for(poll_interval);
  }
}

rapidjson::Document wait_for_job(api& client, const std::string& job_id, const std::string& wanted,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  for (;;) {
    auto r = client.get("/api/v1/jobs/" + job_id);
    BOOST_REQUIRE_MESSAGE(r.status == 200 || r.status == 404, r.describe());
    if (r.status == 200) {
      auto doc = r.json();
      if (str(doc, "status") == wanted) return doc;
    }
    if (steady::now() > deadline)
      BOOST_FAIL("job " + job_id + " never reached " + wanted + ": " + r.body);
    std::this_thread::sleep_for(poll_interval);
  }
}

}  // namespace certctl::integration
