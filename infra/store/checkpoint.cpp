#include "infra/store/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "events/json.hpp"
#include "infra/crypto/detached_signature.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/store/event_id.hpp"

namespace certctl::store {

std::string signing_input(const checkpoint& c) {
  const std::string fields = std::to_string(c.position) + "\n" + c.hash + "\n" +
                             std::to_string(c.taken_at) + "\n" + c.key_id + "\n";
  if (c.node_id.empty()) return "certctl-audit-checkpoint/v1\n" + fields;
  return "certctl-audit-checkpoint/v2\n" + fields + c.node_id + "\n";
}

std::string to_json(const checkpoint& c) {
  events::json_object o;
  o.set("position", c.position)
      .set("hash", c.hash)
      .set("taken_at", static_cast<std::int64_t>(c.taken_at))
      .set("key_id", c.key_id)
      .set("public_key", c.public_key_pem)
      .set("signature", c.signature);
  if (!c.node_id.empty()) o.set("node_id", c.node_id);
  return o.dump();
}

std::optional<checkpoint> parse_checkpoint(std::string_view json) {
  auto o = events::json_object::parse(json);
  if (!o || !o->is_int("position") || !o->is_string("hash") || !o->is_int("taken_at") ||
      !o->is_string("key_id") || !o->is_string("public_key") || !o->is_string("signature"))
    return std::nullopt;
  checkpoint c;
  c.position = o->int64("position");
  c.hash = o->str("hash");
  c.taken_at = o->int64("taken_at");
  c.key_id = o->str("key_id");
  c.public_key_pem = o->str("public_key");
  c.signature = o->str("signature");
  if (o->has("node_id")) {
    if (!o->is_string("node_id") || o->str("node_id").empty()) return std::nullopt;
    c.node_id = o->str("node_id");
  }
  if (c.position < 1) return std::nullopt;
  return c;
}

store_result<checkpoint> sign_checkpoint(std::int64_t position, const std::string& hash,
                                         events::timestamp_us taken_at,
                                         std::string_view private_key_pem,
                                         const std::string& node_id) {
  auto fail = [](const std::string& why) {
    return store_error{store_errc::invalid_argument, "sign checkpoint: " + why};
  };
  checkpoint c;
  c.position = position;
  c.hash = hash;
  c.taken_at = taken_at;
  c.node_id = node_id;
  auto pub = crypto::public_key_pem_of(private_key_pem);
  if (!pub) return fail(pub.error().message);
  c.public_key_pem = *pub;
  auto id = crypto::public_key_fingerprint(c.public_key_pem);
  if (!id) return fail(id.error().message);
  c.key_id = *id;
  auto sig = crypto::sign_detached(private_key_pem, signing_input(c));
  if (!sig) return fail(sig.error().message);
  c.signature = crypto::base64url_encode(*sig);
  return c;
}

std::string check_signature(const checkpoint& c, const std::vector<std::string>& trusted_keys) {
  auto raw = crypto::base64url_decode(c.signature);
  if (!raw) return "signature is not base64url";
  const crypto::bytes sig(raw->begin(), raw->end());
  const std::string input = signing_input(c);
  if (trusted_keys.empty()) {
    auto id = crypto::public_key_fingerprint(c.public_key_pem);
    if (!id) return "the checkpoint's public key does not parse: " + id.error().message;
    if (*id != c.key_id) return "key_id does not match the checkpoint's public key";
    auto ok = crypto::verify_detached(c.public_key_pem, input, sig);
    if (!ok) return ok.error().message;
    return *ok ? "" : "signature does not verify under the checkpoint's own key " + c.key_id;
  }
  for (const auto& key : trusted_keys) {
    auto ok = crypto::verify_detached(key, input, sig);
    if (ok && *ok) return "";
  }
  return "signature does not verify under any trusted public key (checkpoint names key " +
         c.key_id + ")";
}

store_result<std::vector<checkpoint>> read_checkpoints(event_store& store) {
  auto evs = store.read_stream(checkpoint_stream);
  if (!evs) return evs.error();
  std::vector<checkpoint> out;
  for (const auto& e : *evs) {
    if (e.type != checkpoint_event_type) continue;
    auto c = parse_checkpoint(e.payload);
    if (!c)
      return store_error{store_errc::corrupt, "the audit.checkpoint event at position " +
                                                  std::to_string(e.position) + " does not decode"};
    out.push_back(std::move(*c));
  }
  return out;
}

result<std::vector<checkpoint>, std::string> read_checkpoint_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::string("cannot open checkpoint file " + path);
  std::vector<checkpoint> out;
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.empty()) continue;
    auto c = parse_checkpoint(line);
    if (!c) return path + ": line " + std::to_string(n) + " is not a checkpoint";
    out.push_back(std::move(*c));
  }
  return out;
}

result<done, std::string> append_checkpoint_file(const std::string& path, const checkpoint& c) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return "open " + path + ": " + std::strerror(errno);
  const std::string line = to_json(c) + "\n";
  // One write(2) per line with O_APPEND: the line lands whole at the end of the file, after
  // whatever any earlier writer appended.
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  const bool synced = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    return "write " + path + ": " + (n < 0 ? std::strerror(write_errno) : "short write");
  if (!synced) return "fsync " + path + ": " + std::strerror(sync_errno);
  return done{};
}

store_result<checkpoint_outcome> take_checkpoint(event_store& store,
                                                 std::string_view private_key_pem,
                                                 events::timestamp_us now,
                                                 const std::string& file_path,
                                                 const std::string& node_id) {
  auto head = store.head_position();
  if (!head) return head.error();
  checkpoint_outcome out;
  if (*head == 0) return out;
  auto last = store.read_all(*head, 1);
  if (!last) return last.error();
  if (last->empty())
    return store_error{store_errc::unavailable,
                       "head event " + std::to_string(*head) + " vanished"};
  const auto& head_event = last->front();
  // The head is our own previous checkpoint: nothing but checkpoints happened since.
  if (head_event.stream_id == checkpoint_stream) return out;

  auto signed_cp =
      sign_checkpoint(head_event.position, head_event.hash, now, private_key_pem, node_id);
  if (!signed_cp) return signed_cp.error();
  append_request req;
  req.stream_id = checkpoint_stream;
  req.expected = expected_version::any();
  events::proposed_event e;
  e.event_id = new_event_id();
  e.type = checkpoint_event_type;
  e.occurred_at = now;
  e.principal = node_id.empty() ? "system:audit-checkpoint" : "system:audit-checkpoint:" + node_id;
  e.payload = to_json(*signed_cp);
  req.events.push_back(std::move(e));
  auto appended = store.append(std::move(req));
  if (!appended) return appended.error();
  out.event_position = appended->last_position;
  // After the append: a file line always names a checkpoint the log holds too (a crash in
  // between loses only the file copy of one checkpoint, the next one covers it).
  if (!file_path.empty()) {
    if (auto w = append_checkpoint_file(file_path, *signed_cp); !w)
      return store_error{store_errc::unavailable, "checkpoint file: " + w.error()};
  }
  out.taken = std::move(*signed_cp);
  return out;
}

}  // namespace certctl::store
