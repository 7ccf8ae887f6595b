// FakeTarget: a deployment target double for tests (see connectors/fakes.hpp). It "serves"
// what was last deployed to it, in memory, and can roll back to what it served before.
#include <map>
#include <mutex>

#include "connectors/fakes.hpp"

namespace certctl::connectors::fakes {

namespace {

class fake_target final : public target {
 public:
  fake_target(connector_settings s, std::shared_ptr<journal> j, target_location where)
      : s_(std::move(s)), j_(std::move(j)), where_(where) {}

  std::string_view type() const override { return "FakeTarget"; }
  const std::string& id() const override { return s_.id; }
  target_location location() const override { return where_; }

  certctl::result<done, connector_error> validate() override {
    j_->record("validate " + s_.id);
    if (auto f = j_->take_failure(); !f.empty())
      return connector_error{connector_errc::invalid_config, f};
    return done{};
  }

  certctl::result<deployment_result, connector_error> deploy(const deployment_request& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    j_->record("deploy " + s_.id + " " + r.certificate_id);
    if (auto f = j_->take_failure(); !f.empty()) return connector_error{connector_errc::failed, f};
    auto serial = r.metadata.find("serial_hex");
    const std::string next = serial == r.metadata.end() ? std::string() : serial->second;
    deployment_result out;
    out.unchanged = next == serving_;
    out.deployment_id = "dep-" + std::to_string(before_.size() + 1);
    before_[out.deployment_id] = serving_;
    serving_ = next;
    out.message = "written to " + s_.config.str("path");
    return out;
  }

  certctl::result<verification_result, connector_error> verify(
      const verification_request& r) override {
    std::lock_guard<std::mutex> lock(mu_);
    j_->record("verify " + s_.id + " " + r.serial_hex);
    return verification_result{serving_ == r.serial_hex, serving_, ""};
  }

  certctl::result<done, connector_error> rollback(const std::string& deployment_id) override {
    std::lock_guard<std::mutex> lock(mu_);
    j_->record("rollback " + s_.id + " " + deployment_id);
    auto it = before_.find(deployment_id);
    if (it == before_.end())
      return connector_error{connector_errc::invalid_request, "no deployment " + deployment_id};
    serving_ = it->second;
    return done{};
  }

 private:
  connector_settings s_;
  std::shared_ptr<journal> j_;
  target_location where_;
  std::mutex mu_;
  std::string serving_;  ///< guarded by mu_; serial of what the target serves now
  std::map<std::string, std::string> before_;  ///< deployment id -> serial served before it
};

}  // namespace

target_registration fake_target_registration(std::shared_ptr<journal> j) {
  target_registration r;
  r.type = "FakeTarget";
  r.description = "test double: serves in memory what was deployed";
  r.schema = {{{"path", field_type::string, true, false, "where the files would go"},
               {"password", field_type::string, false, true, "the key store password"},
               {"location", field_type::string, false, false, "agent, proxy_agent or server"}}};
  r.make = [j](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    const std::string where = s.config.str("location", "agent");
    target_location l = target_location::agent;
    if (where == "proxy_agent")
      l = target_location::proxy_agent;
    else if (where == "server")
      l = target_location::server;
    else if (where != "agent")
      return connector_error{connector_errc::invalid_config,
                             "config field 'location' must be agent, proxy_agent or server"};
    j->made(s);
    return std::shared_ptr<target>(std::make_shared<fake_target>(s, j, l));
  };
  return r;
}

}  // namespace certctl::connectors::fakes
