// FakeDiscovery: a discovery source double for tests (see connectors/fakes.hpp); it "finds"
// the certificates its config lists.
#include "connectors/fakes.hpp"

namespace certctl::connectors::fakes {

namespace {

class fake_discovery final : public discovery_source {
 public:
  fake_discovery(connector_settings s, std::shared_ptr<journal> j)
      : s_(std::move(s)), j_(std::move(j)) {}

  std::string_view type() const override { return "FakeDiscovery"; }
  const std::string& id() const override { return s_.id; }

  certctl::result<discovery_page, connector_error> list() override {
    j_->record("list " + s_.id);
    if (auto f = j_->take_failure(); !f.empty())
      return connector_error{connector_errc::unavailable, f};
    discovery_page page;
    for (const auto& entry : s_.config.str_array("locations")) {
      const auto bar = entry.find('|');
      if (bar == std::string::npos) {
        page.warnings.push_back("entry without '|': " + entry);
        continue;
      }
      discovered_certificate c;
      c.location = entry.substr(0, bar);
      c.common_name = entry.substr(bar + 1);
      c.fingerprint_sha256_hex = "FAKE-" + c.location;
      page.certificates.push_back(std::move(c));
    }
    return page;
  }

 private:
  connector_settings s_;
  std::shared_ptr<journal> j_;
};

}  // namespace

discovery_registration fake_discovery_registration(std::shared_ptr<journal> j) {
  discovery_registration r;
  r.type = "FakeDiscovery";
  r.description = "test double: lists the certificates its config names";
  r.schema = {{{"locations", field_type::string_array, true, false,
                "what it finds, each \"where|common name\""},
               {"token", field_type::string, false, true, "the source's credential"}}};
  r.make = [j](const connector_settings& s)
      -> certctl::result<std::shared_ptr<discovery_source>, connector_error> {
    j->made(s);
    return std::shared_ptr<discovery_source>(std::make_shared<fake_discovery>(s, j));
  };
  return r;
}

}  // namespace certctl::connectors::fakes
