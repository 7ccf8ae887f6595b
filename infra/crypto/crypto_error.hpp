#pragma once
/// The single error type of infra/crypto. Every OpenSSL failure is turned into one of these with
/// the library's error queue drained into the message, so callers never see OpenSSL state.

#include <string>

#include "events/result.hpp"

namespace certctl::crypto {

struct crypto_error {
  std::string message;  ///< human readable, names the operation first ("parse CSR: ...")
};

template <class T>
using crypto_result = certctl::result<T, crypto_error>;

}  // namespace certctl::crypto
