#pragma once
/// Comparison whose running time does not depend on where (or whether) two secrets differ.

#include <string_view>

namespace certctl::gateways::http {

/// True when `a` and `b` are byte-identical. Every byte of the longer input is visited and no
/// branch depends on the data, so timing reveals at most the lengths (callers compare fixed-size
/// digests, where lengths are public anyway).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace certctl::gateways::http
