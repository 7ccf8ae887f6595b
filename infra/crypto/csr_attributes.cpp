#include "infra/crypto/csr_attributes.hpp"

#include "infra/crypto/csr.hpp"
#include "infra/crypto/detail/openssl.hpp"

namespace certctl::crypto {

crypto_result<std::optional<std::string>> csr_challenge_password(const bytes& csr_der) {
  const std::string_view view(reinterpret_cast<const char*>(csr_der.data()), csr_der.size());
  if (auto s = detail::check_size(view, max_csr_size, "CSR challengePassword"); !s)
    return s.error();
  detail::clear_errors();
  const unsigned char* p = csr_der.data();
  detail::ossl_ptr<X509_REQ> req(d2i_X509_REQ(nullptr, &p, static_cast<long>(csr_der.size())));
  if (!req) return detail::openssl_error("CSR challengePassword");
  const int at = X509_REQ_get_attr_by_NID(req.get(), NID_pkcs9_challengePassword, -1);
  if (at < 0) return std::optional<std::string>{};
  X509_ATTRIBUTE* attr = X509_REQ_get_attr(req.get(), at);
  if (attr == nullptr || X509_ATTRIBUTE_count(attr) != 1)
    return crypto_error{"CSR challengePassword: expected exactly one value"};
  const ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attr, 0);
  // DirectoryString: PrintableString or UTF8String in practice; the others are refused.
  if (value == nullptr || (value->type != V_ASN1_PRINTABLESTRING &&
                           value->type != V_ASN1_UTF8STRING && value->type != V_ASN1_IA5STRING))
    return crypto_error{"CSR challengePassword: not a printable or UTF-8 string"};
  const ASN1_STRING* s = value->value.asn1_string;
  return std::optional<std::string>(
      std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                  static_cast<size_t>(ASN1_STRING_length(s))));
}

}  // namespace certctl::crypto
