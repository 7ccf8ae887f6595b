#include "actors/cluster/command_codec.hpp"

#include <array>
#include <utility>

namespace certctl::cluster {
namespace {

using domain::domain_errc;

constexpr std::int64_t wire_version = 1;

constexpr std::array<std::pair<domain_errc, const char*>, 6> error_codes{{
    {domain_errc::invalid, "invalid"},
    {domain_errc::not_found, "not_found"},
    {domain_errc::conflict, "conflict"},
    {domain_errc::forbidden, "forbidden"},
    {domain_errc::internal, "internal"},
    {domain_errc::unavailable, "unavailable"},
}};

const char* code_name(domain_errc code) {
  for (const auto& [c, name] : error_codes)
    if (c == code) return name;
  return "internal";
}

std::optional<domain_errc> code_from(const std::string& name) {
  for (const auto& [c, n] : error_codes)
    if (name == n) return c;
  return std::nullopt;
}

actors::command_result unreadable_reply(const std::string& why) {
  return domain::domain_error{domain_errc::unavailable,
                              "the owner's reply could not be read (" + why + ")"};
}

}  // namespace

std::string encode_command(const std::string& kind, const domain::command& cmd) {
  events::json_object o;
  o.set("v", wire_version)
      .set("kind", kind)
      .set("name", cmd.name)
      .set("entity_id", cmd.entity_id)
      .set_raw("body", cmd.body.dump())
      .set("principal", cmd.principal)
      .set("source_address", cmd.source_address)
      .set("correlation_id", cmd.correlation_id)
      .set("command_id", cmd.command_id);
  return o.dump();
}

result<forwarded_command, std::string> decode_command(std::string_view text) {
  if (text.size() > max_forwarded_bytes) return std::string("command larger than 4 MiB");
  std::string error;
  auto o = events::json_object::parse(text, &error);
  if (!o) return "not a JSON object: " + error;
  if (!o->is_int("v") || o->int64("v") != wire_version) return std::string("unknown wire version");
  for (const char* field : {"kind", "name", "entity_id", "principal", "source_address",
                            "correlation_id", "command_id"}) {
    if (!o->is_string(field)) return std::string("field '") + field + "' missing or not a string";
  }
  if (!o->is_object("body")) return std::string("field 'body' missing or not an object");
  auto body = events::json_object::parse(o->raw("body"));
  if (!body) return std::string("field 'body' unreadable");
  forwarded_command f;
  f.kind = o->str("kind");
  f.cmd.name = o->str("name");
  f.cmd.entity_id = o->str("entity_id");
  f.cmd.body = std::move(*body);
  f.cmd.principal = o->str("principal");
  f.cmd.source_address = o->str("source_address");
  f.cmd.correlation_id = o->str("correlation_id");
  f.cmd.command_id = o->str("command_id");
  if (f.kind.empty() || f.cmd.name.empty() || f.cmd.entity_id.empty())
    return std::string("kind, name and entity_id must not be empty");
  return f;
}

std::string encode_result(const actors::command_result& r) {
  events::json_object o;
  o.set("v", wire_version);
  if (r) {
    o.set("ok", true)
        .set_raw("view", r->view.dump())
        .set("position", r->position)
        .set("stream_version", r->stream_version)
        .set("duplicate", r->duplicate);
  } else {
    o.set("ok", false).set("code", code_name(r.error().code)).set("message", r.error().message);
  }
  return o.dump();
}

actors::command_result decode_result(std::string_view text) {
  if (text.size() > max_forwarded_bytes) return unreadable_reply("larger than 4 MiB");
  auto o = events::json_object::parse(text);
  if (!o || !o->is_int("v") || o->int64("v") != wire_version || !o->is_bool("ok"))
    return unreadable_reply("not a version 1 reply");
  if (!o->boolean("ok")) {
    auto code = code_from(o->str("code"));
    if (!code || !o->is_string("message")) return unreadable_reply("bad error fields");
    return domain::domain_error{*code, o->str("message")};
  }
  if (!o->is_object("view") || !o->is_int("position") || !o->is_int("stream_version") ||
      !o->is_bool("duplicate"))
    return unreadable_reply("bad outcome fields");
  auto view = events::json_object::parse(o->raw("view"));
  if (!view) return unreadable_reply("bad view");
  return actors::command_outcome{std::move(*view), o->int64("position"), o->int64("stream_version"),
                                 o->boolean("duplicate")};
}

}  // namespace certctl::cluster
