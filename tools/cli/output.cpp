#include "tools/cli/output.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <ostream>

namespace certctl::client {
namespace {

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string scalar_text(const rapidjson::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "";
  return compact(v);
}

/// A value as one table cell: "-" for absent or empty, lists joined with ", ", string maps as
/// "k=v" pairs (tags), anything deeper as compact JSON.
std::string cell_text(const rapidjson::Value* v) {
  if (v == nullptr) return "-";
  std::string out;
  if (v->IsArray()) {
    for (const auto& e : v->GetArray()) {
      if (!e.IsString() && !e.IsNumber() && !e.IsBool()) return compact(*v);
      out += (out.empty() ? "" : ", ") + scalar_text(e);
    }
  } else if (v->IsObject()) {
    for (const auto& m : v->GetObject()) {
      if (m.value.IsObject() || m.value.IsArray()) return compact(*v);
      out +=
          (out.empty() ? "" : ", ") + std::string(m.name.GetString()) + "=" + scalar_text(m.value);
    }
  } else {
    out = scalar_text(*v);
  }
  return out.empty() ? "-" : out;
}

const rapidjson::Value* member(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

std::int64_t int_member(const rapidjson::Value& obj, const char* name, std::int64_t fallback) {
  const rapidjson::Value* v = member(obj, name);
  return v != nullptr && v->IsInt64() ? v->GetInt64() : fallback;
}

void print_row(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
               std::ostream& os) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size()) line += std::string(widths[i] - cells[i].size() + 2, ' ');
  }
  os << line << "\n";
}

}  // namespace

bool print_list(const std::string& body, const std::vector<column>& columns, std::ostream& os) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  const rapidjson::Value* data = member(doc, "data");
  if (data == nullptr || !data->IsArray()) return false;

  std::vector<std::vector<std::string>> rows;
  std::vector<size_t> widths;
  std::vector<std::string> header;
  for (const auto& c : columns) {
    header.emplace_back(c.header);
    widths.push_back(header.back().size());
  }
  for (const auto& item : data->GetArray()) {
    std::vector<std::string> row;
    for (const auto& c : columns) {
      std::string text = cell_text(member(item, c.field));
      if (c.suffix_field != nullptr && member(item, c.suffix_field) != nullptr)
        text += "/" + cell_text(member(item, c.suffix_field));
      widths[row.size()] = std::max(widths[row.size()], text.size());
      row.push_back(std::move(text));
    }
    rows.push_back(std::move(row));
  }
  print_row(header, widths, os);
  for (const auto& row : rows) print_row(row, widths, os);

  // Servers that do not paginate still get a truthful footer: one page of everything.
  const auto count = static_cast<std::int64_t>(rows.size());
  const std::int64_t total = int_member(doc, "total", count);
  const std::int64_t page = int_member(doc, "page", 1);
  const std::int64_t per_page = int_member(doc, "per_page", std::max<std::int64_t>(count, 1));
  const std::int64_t pages =
      per_page > 0 ? std::max<std::int64_t>(1, (total + per_page - 1) / per_page) : 1;
  os << "\npage " << page << " of " << pages << " (" << total << " total)\n";
  return true;
}

bool print_object(const std::string& body, std::ostream& os) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return false;
  size_t width = 0;
  for (const auto& m : doc.GetObject()) width = std::max<size_t>(width, m.name.GetStringLength());
  for (const auto& m : doc.GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    key += ":";
    key.resize(width + 2, ' ');
    os << key << cell_text(&m.value) << "\n";
  }
  return true;
}

void print_raw(const std::string& body, std::ostream& os) {
  os << body;
  if (body.empty() || body.back() != '\n') os << "\n";
}

std::string describe_api_error(const api_response& r) {
  rapidjson::Document doc;
  doc.Parse(r.body.data(), r.body.size());
  const rapidjson::Value* error = doc.HasParseError() ? nullptr : member(doc, "error");
  if (error != nullptr && error->IsString() && error->GetStringLength() > 0) {
    std::string out = error->GetString();
    const rapidjson::Value* id = member(doc, "request_id");
    if (id != nullptr && id->IsString() && id->GetStringLength() > 0)
      out += " (request " + std::string(id->GetString()) + ")";
    return out;
  }
  std::string snippet = r.body.substr(0, std::min<size_t>(r.body.find('\n'), 200));
  return "HTTP " + std::to_string(r.status) + (snippet.empty() ? "" : ": " + snippet);
}

}  // namespace certctl::client
