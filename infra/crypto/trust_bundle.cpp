#include "infra/crypto/trust_bundle.hpp"

#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {

struct trust_bundle::impl {
  std::vector<detail::ossl_ptr<X509>> anchors;
  std::vector<std::string> subjects;
  std::int64_t earliest_not_after = std::numeric_limits<std::int64_t>::max();
};

trust_bundle::trust_bundle() : impl_(std::make_unique<impl>()) {}
trust_bundle::~trust_bundle() = default;

crypto_result<std::shared_ptr<const trust_bundle>> trust_bundle::from_pem(std::string_view pem,
                                                                          std::int64_t now_epoch) {
  if (auto s = detail::check_size(pem, max_trust_bundle_size, "trust bundle"); !s) return s.error();
  std::shared_ptr<trust_bundle> b(new trust_bundle());
  auto bio = detail::memory_bio(pem);
  bool any_current = false;
  for (;;) {
    detail::ossl_ptr<X509> c(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!c) break;
    auto not_after = detail::time_to_epoch(X509_get0_notAfter(c.get()));
    if (!not_after) return crypto_error{"trust bundle: " + not_after.error().message};
    any_current = any_current || *not_after > now_epoch;
    b->impl_->earliest_not_after = std::min(b->impl_->earliest_not_after, *not_after);
    b->impl_->subjects.push_back(detail::name_to_string(X509_get_subject_name(c.get())));
    b->impl_->anchors.push_back(std::move(c));
  }
  detail::clear_errors();  // the loop ends on "no start line"
  if (b->impl_->anchors.empty()) return crypto_error{"trust bundle: no certificate in it"};
  if (!any_current) return crypto_error{"trust bundle: every certificate in it has expired"};
  return std::shared_ptr<const trust_bundle>(std::move(b));
}

crypto_result<std::shared_ptr<const trust_bundle>> trust_bundle::from_file(const std::string& path,
                                                                           std::int64_t now_epoch) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return crypto_error{"trust bundle: cannot read " + path};
  std::ostringstream text;
  text << in.rdbuf();
  auto b = from_pem(text.str(), now_epoch);
  if (!b) return crypto_error{b.error().message + " (" + path + ")"};
  return b;
}

crypto_result<done> trust_bundle::verify_client(const std::vector<bytes>& chain,
                                                std::int64_t now_epoch) const {
  if (chain.empty()) return crypto_error{"client certificate: none presented"};
  detail::clear_errors();
  std::vector<detail::ossl_ptr<X509>> parsed;
  for (const auto& d : chain) {
    const unsigned char* p = d.data();
    detail::ossl_ptr<X509> c(d2i_X509(nullptr, &p, static_cast<long>(d.size())));
    if (!c) return detail::openssl_error("client certificate");
    parsed.push_back(std::move(c));
  }
  detail::ossl_ptr<X509_STORE> store(X509_STORE_new());
  detail::ossl_ptr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!store || !untrusted) return detail::openssl_error("client certificate");
  for (const auto& a : impl_->anchors)
    if (X509_STORE_add_cert(store.get(), a.get()) != 1)
      return detail::openssl_error("client certificate: trust store");
  for (size_t i = 1; i < parsed.size(); ++i) {
    if (sk_X509_push(untrusted.get(), parsed[i].get()) == 0)
      return detail::openssl_error("client certificate");
    X509_up_ref(parsed[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), parsed[0].get(), untrusted.get()) != 1)
    return detail::openssl_error("client certificate");
  X509_STORE_CTX_set_time(ctx.get(), 0, static_cast<time_t>(now_epoch));
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    detail::clear_errors();
    return crypto_error{std::string("client certificate: ") + X509_verify_cert_error_string(err)};
  }
  return done{};
}

std::size_t trust_bundle::size() const {
  return impl_->anchors.size();
}

const std::vector<std::string>& trust_bundle::subjects() const {
  return impl_->subjects;
}

std::int64_t trust_bundle::earliest_not_after() const {
  return impl_->earliest_not_after;
}

}  // namespace certctl::crypto
