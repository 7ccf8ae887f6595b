// FakeNotifier: a notifier double for tests (see connectors/fakes.hpp); "sends" by recording.
#include "connectors/fakes.hpp"

namespace certctl::connectors::fakes {

namespace {

class fake_notifier final : public notifier {
 public:
  fake_notifier(connector_settings s, std::shared_ptr<journal> j)
      : s_(std::move(s)), j_(std::move(j)), channel_(s_.config.str("channel")) {}

  std::string_view type() const override { return "FakeNotifier"; }
  const std::string& id() const override { return s_.id; }
  std::string_view channel() const override { return channel_; }

  certctl::result<delivery, connector_error> send(const notification& n) override {
    if (n.channel != channel_)
      return connector_error{
          connector_errc::invalid_request,
          "notifier " + s_.id + " serves channel " + channel_ + ", not " + n.channel};
    j_->record("send " + s_.id + " " + std::string(to_string(n.level)) + " " + n.subject);
    if (auto f = j_->take_failure(); !f.empty())
      return connector_error{connector_errc::unavailable, f};
    return delivery{"msg-" + std::to_string(++sent_), 0};
  }

 private:
  connector_settings s_;
  std::shared_ptr<journal> j_;
  std::string channel_;
  int sent_ = 0;
};

}  // namespace

notifier_registration fake_notifier_registration(std::shared_ptr<journal> j) {
  notifier_registration r;
  r.type = "FakeNotifier";
  r.description = "test double: records what it would send";
  r.schema = {{{"channel", field_type::string, true, false, "the channel it serves, e.g. Email"},
               {"token", field_type::string, false, true, "the channel's credential"}}};
  r.make = [j](const connector_settings& s)
      -> certctl::result<std::shared_ptr<notifier>, connector_error> {
    j->made(s);
    return std::shared_ptr<notifier>(std::make_shared<fake_notifier>(s, j));
  };
  return r;
}

}  // namespace certctl::connectors::fakes
