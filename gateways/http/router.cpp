#include "gateways/http/router.hpp"

#include <algorithm>
#include <set>

#include "gateways/http/json.hpp"
#include "gateways/http/request_id.hpp"

namespace certctl::gateways::http {
namespace {

struct segment {
  std::string text;  ///< literal text, or the parameter name
  bool param = false;
};

/// "/a/b/" -> {"a", "b", ""}; "/" -> {""}. The caller guarantees a leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  path.remove_prefix(1);
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

bool same_shape(const std::vector<segment>& a, const std::vector<segment>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].param != b[i].param) return false;
    if (!a[i].param && a[i].text != b[i].text) return false;
  }
  return true;
}

/// True when `a` is more specific than `b`: at the first position where one has a literal and
/// the other a parameter, the literal wins (Go 1.22 ServeMux precedence, which the reference
/// server's routes were written against).
bool more_specific(const std::vector<segment>& a, const std::vector<segment>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i].param != b[i].param) return !a[i].param;
  }
  return false;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool has_header(const response& r, std::string_view name) {
  const ci_less less;
  const std::string n(name);
  return std::any_of(r.headers.begin(), r.headers.end(),
                     [&](const auto& h) { return !less(h.first, n) && !less(n, h.first); });
}

void add_default(response& r, std::string_view name, std::string_view value) {
  if (!has_header(r, name)) r.with_header(std::string(name), std::string(value));
}

std::string first_header(const header_map& headers, const std::string& name) {
  const auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

}  // namespace

struct router::route {
  std::string method;
  std::string pattern;
  std::vector<segment> segments;
  access_rule rule = role::none;
  handler fn;
};

struct router::match {
  const route* r = nullptr;
  std::map<std::string, std::string> params;
};

const std::string& request_context::path_param(const std::string& name) const {
  static const std::string empty;
  const auto it = path_params.find(name);
  return it == path_params.end() ? empty : it->second;
}

std::optional<std::string> request_context::query(const std::string& name) const {
  const auto it = raw.query.find(name);
  if (it == raw.query.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> request_context::header(const std::string& name) const {
  const auto it = raw.headers.find(name);
  if (it == raw.headers.end()) return std::nullopt;
  return it->second;
}

std::string_view to_string(auth_failure f) {
  switch (f) {
    case auth_failure::missing_credentials:
      return "missing_credentials";
    case auth_failure::invalid_credentials:
      return "invalid_credentials";
    case auth_failure::insufficient_role:
      return "insufficient_role";
    case auth_failure::outside_binding:
      return "outside_binding";
  }
  return "unknown";
}

router::router(key_store keys, router_options options)
    : keys_(std::move(keys)), options_(std::move(options)) {}

router::~router() = default;

router& router::add(std::string_view method, std::string_view pattern, access_rule rule,
                    handler h) {
  auto fail = [&](const std::string& why) -> router& {
    if (!registration_error_) {
      registration_error_ =
          "route " + std::string(method) + " " + std::string(pattern) + ": " + why;
    }
    return *this;
  };
  if (method.empty()) return fail("empty method");
  if (pattern.empty() || pattern.front() != '/') return fail("pattern must start with '/'");
  if (!h) return fail("no handler");
  auto r = std::make_unique<route>();
  r->method = upper(method);
  r->pattern = std::string(pattern);
  r->rule = rule;
  r->fn = std::move(h);
  std::set<std::string> names;
  for (std::string_view s : split_path(pattern)) {
    segment seg;
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      seg.param = true;
      seg.text = std::string(s.substr(1, s.size() - 2));
      if (seg.text.empty() || seg.text.find_first_of("{}/") != std::string::npos) {
        return fail("bad parameter segment '" + std::string(s) + "'");
      }
      if (!names.insert(seg.text).second) return fail("parameter '" + seg.text + "' repeated");
    } else {
      if (s.find_first_of("{}") != std::string_view::npos) {
        return fail("braces must enclose a whole segment");
      }
      seg.text = std::string(s);
    }
    r->segments.push_back(std::move(seg));
  }
  for (const auto& existing : routes_) {
    if (existing->method == r->method && same_shape(existing->segments, r->segments)) {
      return fail("duplicates " + existing->pattern);
    }
  }
  routes_.push_back(std::move(r));
  return *this;
}

std::vector<router::route_info> router::routes() const {
  std::vector<route_info> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(route_info{r->method, r->pattern, r->rule});
  return out;
}

std::optional<router::match> router::find(const std::string& method, const std::string& path,
                                          std::string& allow) const {
  if (path.empty() || path.front() != '/') return std::nullopt;
  const auto parts = split_path(path);
  const route* best = nullptr;
  std::set<std::string> methods;
  for (const auto& r : routes_) {
    if (r->segments.size() != parts.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; ok && i < parts.size(); ++i) {
      const auto& s = r->segments[i];
      ok = s.param ? !parts[i].empty() : s.text == parts[i];
    }
    if (!ok) continue;
    methods.insert(r->method);
    if (r->method == "GET") methods.insert("HEAD");
    const bool method_ok = r->method == method || (method == "HEAD" && r->method == "GET");
    if (method_ok && (!best || more_specific(r->segments, best->segments))) best = r.get();
  }
  for (const auto& m : methods) allow += (allow.empty() ? "" : ", ") + m;
  if (!best) return std::nullopt;
  match m;
  m.r = best;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (best->segments[i].param) m.params[best->segments[i].text] = std::string(parts[i]);
  }
  return m;
}

void router::report(const auth_event& e) const {
  if (!options_.on_auth_failure) return;
  try {
    options_.on_auth_failure(e);
  } catch (...) {
    // An observer failure must not turn a 401 into a 500; the server logs its own errors.
  }
}

response router::handle(const raw_request& req) const {
  const auto start = std::chrono::steady_clock::now();
  try {
    const std::string request_id = choose_request_id(first_header(req.headers, "X-Request-Id"));
    principal who;
    std::string internal_error;
    auto deny = [&](auth_failure reason, std::string who_name) {
      report(auth_event{std::move(who_name), req.remote_addr, req.method, req.path, reason,
                        request_id});
    };
    auto run = [&]() -> response {
      std::string allow;
      auto m = find(req.method, req.path, allow);
      if (!m) {
        if (allow.empty()) return error_response(404, "not found");
        return error_response(405, "method " + req.method + " not allowed")
            .with_header("Allow", allow);
      }
      const route& r = *m->r;
      if (!r.rule.is_public()) {
        if (!options_.auth_enabled) {
          who = principal{"anonymous", role::admin, nullptr, {}};
        } else {
          const auto authz = req.headers.find("Authorization");
          if (authz == req.headers.end()) {
            deny(auth_failure::missing_credentials, {});
            return error_response(401, "missing API key (Authorization: Bearer <key>)");
          }
          const auto token = bearer_token(authz->second);
          auto found = token ? keys_.authenticate(*token) : std::nullopt;
          // Both directories are asked whatever the first answered: the time taken must not
          // tell a configured key from a managed one.
          auto managed = token && options_.managed_keys ? options_.managed_keys(*token)
                                                        : std::optional<principal>{};
          if (!found) found = std::move(managed);
          if (!found) {
            deny(auth_failure::invalid_credentials, {});
            return error_response(401, "invalid API key");
          }
          who = std::move(*found);
          if (!r.rule.admits(who.level)) {
            deny(auth_failure::insufficient_role, who.name);
            return error_response(403, "role '" + std::string(to_string(who.level)) +
                                           "' may not do this; allowed: " + r.rule.describe());
          }
          if (options_.check_binding) {
            if (auto refused = options_.check_binding(who, r.pattern, m->params)) {
              deny(auth_failure::outside_binding, who.name);
              return std::move(*refused);
            }
          }
        }
      }
      if (r.method == "GET") {
        auto wanted = requested_position(req.headers);
        if (!wanted) return to_response(wanted.error());
        if (*wanted && options_.wait_for_position &&
            !options_.wait_for_position(**wanted, options_.max_position_wait)) {
          return error_response(503, "timed out after " +
                                         std::to_string(options_.max_position_wait.count()) +
                                         " ms waiting for log position " +
                                         std::to_string(**wanted) + " to be applied; retry");
        }
      }
      request_context ctx{req, std::move(m->params), request_id, who};
      try {
        return r.fn(ctx);
      } catch (const std::exception& e) {
        internal_error = e.what();
      } catch (...) {
        internal_error = "non-standard exception";
      }
      return error_response(500, "internal server error");
    };
    response r = run();
    return finish(req, std::move(r), request_id, who, start, internal_error);
  } catch (...) {
    // Only allocation failure gets here; answer without touching hooks.
    response r;
    r.status = 500;
    r.body = R"({"error":"internal server error","request_id":""})";
    return r;
  }
}

response router::transport_error(const raw_request& req, int status) const {
  const auto start = std::chrono::steady_clock::now();
  try {
    const std::string request_id = choose_request_id(first_header(req.headers, "X-Request-Id"));
    return finish(req, error_response(status, std::string(status_text(status))), request_id, {},
                  start, {});
  } catch (...) {
    response r;
    r.status = status;
    r.body = R"({"error":"request error","request_id":""})";
    return r;
  }
}

response router::finish(const raw_request& req, response r, const std::string& request_id,
                        const principal& who, std::chrono::steady_clock::time_point start,
                        const std::string& internal_error) const {
  if (r.error) {
    json_writer w;
    w.begin_object().field("error", *r.error).field("request_id", request_id).end_object();
    r.body = w.str();
    r.content_type = "application/json";
    r.stream = nullptr;  // an error is always a complete JSON body
  }
  r.with_header("X-Request-Id", request_id);
  // API answers are per-caller and may hold secrets: never cache, never sniff, never frame.
  add_default(r, "Cache-Control", "no-store");
  add_default(r, "X-Content-Type-Options", "nosniff");
  add_default(r, "X-Frame-Options", "DENY");
  add_default(r, "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  add_default(r, "Referrer-Policy", "no-referrer");
  if (req.tls) add_default(r, "Strict-Transport-Security", "max-age=31536000");
  if (r.status == 401) add_default(r, "WWW-Authenticate", "Bearer");
  if (options_.on_request) {
    request_log_entry e;
    e.method = req.method;
    e.path = req.path;
    e.status = r.status;
    e.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - start);
    e.request_id = request_id;
    e.principal = who.name;
    e.remote_addr = req.remote_addr;
    e.internal_error = internal_error;
    try {
      options_.on_request(e);
    } catch (...) {
      // Logging must never fail a request.
    }
  }
  return r;
}

}  // namespace certctl::gateways::http
