#pragma once
/// Values and rows as both backends return them: NULL, a 64-bit integer or text.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace certctl::sql {

/// One parameter or column value: NULL, a 64-bit integer or text.
using sql_value = std::variant<std::monostate, std::int64_t, std::string>;
using params = std::vector<sql_value>;

/// One result row. Accessors convert between integer and text, because PostgreSQL reports
/// some integer expressions (count, sum) with types we do not map.
class row {
 public:
  explicit row(std::vector<sql_value> columns) : columns_(std::move(columns)) {}

  size_t size() const { return columns_.size(); }
  const sql_value& operator[](size_t i) const { return columns_.at(i); }
  bool is_null(size_t i) const { return std::holds_alternative<std::monostate>(columns_.at(i)); }
  /// Text of column i; an integer renders in decimal; nullopt for NULL.
  std::optional<std::string> text(size_t i) const;
  /// Integer of column i; text must be a decimal integer; nullopt for NULL or non-numeric text.
  std::optional<std::int64_t> int64(size_t i) const;
  const std::vector<sql_value>& columns() const { return columns_; }
  /// Mutable columns, so a decoder can move large text out instead of copying it.
  std::vector<sql_value>& columns() { return columns_; }

  bool operator==(const row& other) const { return columns_ == other.columns_; }

 private:
  std::vector<sql_value> columns_;
};
using rows = std::vector<row>;

}  // namespace certctl::sql
