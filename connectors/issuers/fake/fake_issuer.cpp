// FakeCA: an issuer double for tests (see connectors/fakes.hpp). It signs nothing; it hands
// back recognisable placeholders and records every call, so tests of callers can check what
// reached the CA.
#include <atomic>

#include "connectors/fakes.hpp"

namespace certctl::connectors::fakes {

namespace {

class fake_issuer final : public issuer {
 public:
  fake_issuer(connector_settings s, std::shared_ptr<journal> j)
      : s_(std::move(s)), j_(std::move(j)), async_(s_.config.boolean("async")) {}

  std::string_view type() const override { return "FakeCA"; }
  const std::string& id() const override { return s_.id; }

  certctl::result<issued_certificate, issuer_error> issue(const issuance_request& r) override {
    j_->record("issue " + s_.id + " " + r.common_name);
    if (auto f = j_->take_failure(); !f.empty()) return issuer_error{issuer_errc::unavailable, f};
    const std::string serial = std::to_string(++serial_);
    if (async_) {
      issued_certificate pending;
      pending.order_id = "order-" + serial;
      return pending;
    }
    return made(serial, r.common_name);
  }

  std::string ca_chain_pem() const override { return "FAKE CA CHAIN " + s_.id + "\n"; }

  issuer_capabilities capabilities() const override {
    issuer_capabilities c;
    c.revoke = true;
    c.async_orders = async_;
    return c;
  }

  certctl::result<done, issuer_error> revoke(const revocation_request& r) override {
    j_->record("revoke " + s_.id + " " + r.serial_hex + " " + r.reason);
    if (auto f = j_->take_failure(); !f.empty()) return issuer_error{issuer_errc::unavailable, f};
    return done{};
  }

  certctl::result<order_status, issuer_error> get_order_status(const std::string& order) override {
    j_->record("order " + s_.id + " " + order);
    if (!async_ || order.rfind("order-", 0) != 0)
      return issuer_error{issuer_errc::invalid_request, "no order " + order};
    order_status st;
    st.order_id = order;
    st.state = order_state::valid;
    st.certificate = made(order.substr(6), "order");
    return st;
  }

  certctl::result<issuer_test_report, issuer_error> self_test() override {
    j_->record("test " + s_.id);
    if (auto f = j_->take_failure(); !f.empty()) return issuer_error{issuer_errc::unavailable, f};
    return issuer_test_report{"fake CA at " + s_.config.str("url") + " answered", 0};
  }

 private:
  issued_certificate made(const std::string& serial, const std::string& cn) const {
    issued_certificate c;
    c.cert_pem = "FAKE CERTIFICATE " + cn + "\n";
    c.chain_pem = ca_chain_pem();
    c.serial_hex = serial;
    c.fingerprint_sha256_hex = "FAKE" + serial;
    return c;
  }

  connector_settings s_;
  std::shared_ptr<journal> j_;
  bool async_;
  std::atomic<int> serial_{0};
};

}  // namespace

issuer_registration fake_issuer_registration(std::shared_ptr<journal> j) {
  issuer_registration r;
  r.type = "FakeCA";
  r.description = "test double: records calls, signs nothing";
  r.schema = {{{"url", field_type::string, true, false, "where the CA would be"},
               {"api_key", field_type::string, true, true, "the CA's credential"},
               {"async", field_type::boolean, false, false, "answer with orders"}}};
  r.make =
      [j](const connector_settings& s) -> certctl::result<std::shared_ptr<issuer>, issuer_error> {
    j->made(s);
    return std::shared_ptr<issuer>(std::make_shared<fake_issuer>(s, j));
  };
  return r;
}

}  // namespace certctl::connectors::fakes
