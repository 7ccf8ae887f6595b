#pragma once
/// The audit checkpoint loop (issue 11 item 4): signs the chain head every `every_events`
/// events or every `interval`, whichever comes first, and appends it as an audit.checkpoint
/// event (infra/store/checkpoint.hpp), optionally also to a JSON-lines file.
///
/// It runs on its own thread, not in scheduler_runtime: the scheduler runs on every node of a
/// cluster, a checkpoint must be taken once, so the server starts this loop as a cluster
/// singleton (tools/server/main.cpp). It reads the log and appends to it directly: the
/// checkpoint belongs to no entity and must not wait behind entity commands.
///
/// The signing key lives in the server's key store under `checkpoint_key_id`; the loop fetches
/// it for each signature and keeps no copy. No CAF here: a thread and a condition variable.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "events/result.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/key_store.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::schedulers {

/// Key store id of the checkpoint signing key.
inline constexpr const char* checkpoint_key_id = "audit-checkpoint";

struct checkpoint_key_error {
  std::string message;
};

/// Creates the signing key (ECDSA P-256) in `keys` when absent; returns its public key PEM,
/// which the server writes next to its data for auditors (`certctl-audit verify --public-key`).
result<std::string, checkpoint_key_error> ensure_checkpoint_key(crypto::key_store& keys);

struct checkpoint_options {
  std::int64_t every_events = 1000;    ///< 0: no count trigger
  std::chrono::seconds interval{300};  ///< 0: no time trigger
  std::string file;                    ///< "" : no file sink
  std::string node_id;  ///< cluster: this node, named in (and signed into) its checkpoints
  std::chrono::milliseconds poll{1000};            ///< how often the thread looks
  std::function<void(const std::string&)> on_log;  ///< one line per checkpoint or error
};

class checkpoint_loop {
 public:
  checkpoint_loop(store::event_store& store, const infra::clock& clock, crypto::key_store& keys,
                  checkpoint_options options);
  ~checkpoint_loop();
  checkpoint_loop(const checkpoint_loop&) = delete;
  checkpoint_loop& operator=(const checkpoint_loop&) = delete;

  /// One look: takes a checkpoint when a trigger is due. Returns the position it covered, or
  /// nullopt when none was due or the head was already covered; an error message on failure.
  result<std::optional<std::int64_t>, std::string> tick();

  /// Starts / stops the thread (both idempotent; stop joins). A stopped loop may start again
  /// (a cluster singleton moving back to this node).
  void start();
  void stop();

 private:
  void run();

  store::event_store& store_;
  const infra::clock& clock_;
  crypto::key_store& keys_;
  checkpoint_options options_;
  bool primed_ = false;                   ///< last_* read from the log
  std::int64_t last_event_position_ = 0;  ///< where the latest checkpoint event landed
  events::timestamp_us last_taken_at_ = 0;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace certctl::schedulers
