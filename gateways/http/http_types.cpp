#include "gateways/http/http_types.hpp"

#include <algorithm>
#include <cctype>

namespace certctl::gateways::http {

std::string_view to_string(role r) {
  switch (r) {
    case role::none:
      return "none";
    case role::viewer:
      return "viewer";
    case role::operator_:
      return "operator";
    case role::admin:
      return "admin";
    case role::agent:
      return "agent";
    case role::auditor:
      return "auditor";
  }
  return "none";
}

access_rule access_rule::at_least(role min) {
  access_rule a;
  for (role r : {role::viewer, role::operator_, role::admin}) {
    if (static_cast<int>(r) >= static_cast<int>(min) && min != role::none) a.mask_ |= bit(r);
  }
  return a;
}

access_rule access_rule::only(std::initializer_list<role> roles) {
  access_rule a;
  for (role r : roles) {
    if (r != role::none) a.mask_ |= bit(r);
  }
  return a;
}

access_rule access_rule::plus(role r) const {
  if (public_) return *this;  // adding a role to a public route changes nothing
  access_rule a = *this;
  if (r != role::none) a.mask_ |= bit(r);
  return a;
}

std::string access_rule::describe() const {
  if (is_public()) return "public";
  if (mask_ == 0) return "nobody";
  std::string out;
  for (role r : {role::viewer, role::operator_, role::admin, role::agent, role::auditor}) {
    if (admits(r)) out += (out.empty() ? "" : "|") + std::string(to_string(r));
  }
  return out;
}

std::optional<role> parse_role(std::string_view text) {
  if (text == "viewer") return role::viewer;
  if (text == "operator") return role::operator_;
  if (text == "admin") return role::admin;
  if (text == "agent") return role::agent;
  if (text == "auditor") return role::auditor;
  return std::nullopt;
}

bool ci_less::operator()(const std::string& a, const std::string& b) const {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) <
           std::tolower(static_cast<unsigned char>(y));
  });
}

response& response::with_header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

response json_response(std::string body, int status) {
  response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

response stream_response(std::string content_type, body_producer producer) {
  response r;
  r.content_type = std::move(content_type);
  r.stream = std::move(producer);
  return r;
}

response error_response(int status, std::string message) {
  response r;
  r.status = status;
  r.error = std::move(message);
  return r;
}

std::string_view status_text(int status) {
  switch (status) {
    case 400:
      return "bad request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not found";
    case 405:
      return "method not allowed";
    case 408:
      return "request timeout";
    case 409:
      return "conflict";
    case 413:
      return "request body too large";
    case 414:
      return "request URI too long";
    case 415:
      return "unsupported media type";
    case 429:
      return "too many requests";
    case 431:
      return "request header fields too large";
    case 500:
      return "internal server error";
    case 503:
      return "service unavailable";
    default:
      return status >= 500 ? "server error" : "request error";
  }
}

}  // namespace certctl::gateways::http
