#include "actors/schedulers/audit_checkpoint.hpp"

#include "infra/crypto/detached_signature.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/store/checkpoint.hpp"

namespace certctl::schedulers {

result<std::string, checkpoint_key_error> ensure_checkpoint_key(crypto::key_store& keys) {
  using err = checkpoint_key_error;
  if (!keys.contains(checkpoint_key_id)) {
    auto made = crypto::generate_key(crypto::key_type::ecdsa_p256);
    if (!made) return err{"generate the audit checkpoint key: " + made.error().message};
    if (auto put = keys.put(checkpoint_key_id, made->pem); !put)
      return err{"store the audit checkpoint key: " + put.error().message};
  }
  auto pem = keys.get(checkpoint_key_id);
  if (!pem) return err{"read the audit checkpoint key: " + pem.error().message};
  auto pub = crypto::public_key_pem_of(*pem);
  if (!pub) return err{"audit checkpoint key: " + pub.error().message};
  return *pub;
}

checkpoint_loop::checkpoint_loop(store::event_store& store, const infra::clock& clock,
                                 crypto::key_store& keys, checkpoint_options options)
    : store_(store), clock_(clock), keys_(keys), options_(std::move(options)) {}

checkpoint_loop::~checkpoint_loop() {
  stop();
}

result<std::optional<std::int64_t>, std::string> checkpoint_loop::tick() {
  const auto now = clock_.now();
  if (!primed_) {
    // Where the last run (on this node or another) left off, so a restart does not sign at
    // once nor wait a full period more than it should.
    auto stream = store_.read_stream(store::checkpoint_stream);
    if (!stream) return "read checkpoints: " + stream.error().message;
    if (!stream->empty()) {
      last_event_position_ = stream->back().position;
      last_taken_at_ = stream->back().occurred_at;
    } else {
      last_taken_at_ = now;  // the first period starts with the loop
    }
    primed_ = true;
  }
  auto head = store_.head_position();
  if (!head) return "read head: " + head.error().message;
  const std::int64_t since = *head - last_event_position_;
  const bool by_count = options_.every_events > 0 && since >= options_.every_events;
  const bool by_time =
      options_.interval.count() > 0 && since > 0 &&
      now - last_taken_at_ >=
          std::chrono::duration_cast<std::chrono::microseconds>(options_.interval).count();
  if (!by_count && !by_time) return std::optional<std::int64_t>{};
  auto key = keys_.get(checkpoint_key_id);
  if (!key) return "audit checkpoint key: " + key.error().message;
  auto taken = store::take_checkpoint(store_, *key, now, options_.file, options_.node_id);
  if (!taken) return "take checkpoint: " + taken.error().message;
  if (!taken->taken) return std::optional<std::int64_t>{};
  last_event_position_ = taken->event_position;
  last_taken_at_ = now;
  return std::optional<std::int64_t>{taken->taken->position};
}

void checkpoint_loop::start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  // Another node may have taken checkpoints while this one was not the owner.
  primed_ = false;
  thread_ = std::thread([this] { run(); });
}

void checkpoint_loop::stop() {
  std::thread t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    t = std::move(thread_);
  }
  wake_.notify_all();
  if (t.joinable()) t.join();
}

void checkpoint_loop::run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait_for(lock, options_.poll, [this] { return stopping_; });
      if (stopping_) return;
    }
    auto r = tick();
    if (!options_.on_log) continue;
    if (!r)
      options_.on_log("audit checkpoint: " + r.error());
    else if (*r)
      options_.on_log("audit checkpoint: signed head " + std::to_string(**r));
  }
}

}  // namespace certctl::schedulers
