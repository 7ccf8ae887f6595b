#pragma once
/// A value or an error, for code below the actor layer (no CAF, no exceptions across APIs).
/// Each layer defines its own error struct; actors convert them into caf::error at the edge.

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace certctl {

template <class T, class E>
class result {
 public:
  result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  result(E err) : v_(std::in_place_index<1>, std::move(err)) {}      // NOLINT: implicit on purpose

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

/// Unit type for results that carry no value.
struct done {};

}  // namespace certctl
