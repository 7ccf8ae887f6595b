#pragma once
/// The shape every entity shares (DESIGN §5): state is a fold of the entity's events;
/// handling a command validates it against the state and decides new events. No I/O here:
/// the runtime loads, appends and replies; aggregates only decide and evolve, so the rules
/// are tested as plain functions (given events, when command, then events or error).

#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/event.hpp"
#include "events/json.hpp"
#include "events/result.hpp"

namespace certctl::domain {

enum class domain_errc {
  invalid,     ///< the command is malformed or breaks a rule (HTTP 400)
  not_found,   ///< the entity does not exist (404)
  conflict,    ///< the entity's state forbids the command now (409)
  forbidden,   ///< policy denies it (403)
  internal,    ///< our fault, e.g. the store failed (500)
  unavailable  ///< a dependency is down or the command timed out (503)
};
const char* to_string(domain_errc c);
std::ostream& operator<<(std::ostream& os, domain_errc c);

struct domain_error {
  domain_errc code;
  std::string message;
};

struct command {
  std::string name;       ///< "certificate.create", "job.cancel", ...
  std::string entity_id;  ///< id within the kind, e.g. "mc-7f3a"
  events::json_object body;
  std::string principal;  ///< api key name, agent id, "system:renewal"
  std::string source_address;
  std::string correlation_id;    ///< request id that started the work
  std::string command_id;        ///< idempotency key (optional)
  events::timestamp_us now = 0;  ///< stamped by the runtime from the injected clock
};

/// A decided event: its type and payload; the runtime fills in the envelope.
struct decided_event {
  std::string type;
  events::json_object payload;
};
using decision = std::vector<decided_event>;

class aggregate {
 public:
  virtual ~aggregate() = default;
  /// Stream prefix: the stream id is "<kind>-<entity id>".
  virtual std::string kind() const = 0;
  virtual bool exists() const = 0;
  /// Evolves state; must accept every event type this aggregate ever decided.
  virtual void apply(const events::recorded_event& e) = 0;
  virtual result<decision, domain_error> decide(const command& c) const = 0;
  /// The entity as the API shows it.
  virtual events::json_object view() const = 0;
  /// Everything needed to resume without replaying: view plus internal state.
  virtual events::json_object snapshot() const { return view(); }
  virtual void restore(const events::json_object& snapshot) = 0;
};

/// An aggregate whose whole state is the view the API shows (most of them): the id, exists()
/// as "has been created", and the view as its own snapshot.
class view_aggregate : public aggregate {
 public:
  explicit view_aggregate(std::string id) : id_(std::move(id)) {}
  bool exists() const override { return view_.has("id"); }
  events::json_object view() const override { return view_; }
  void restore(const events::json_object& snapshot) override { view_ = snapshot; }

 protected:
  std::string id_;
  events::json_object view_;
};

/// Builds the aggregate for a kind ("certificate", "job", "issuer", "profile",
/// "renewal_policy", "team", "owner", "agent", "intermediate"); nullptr for an unknown kind.
std::unique_ptr<aggregate> make_aggregate(const std::string& kind, const std::string& id);

inline std::string stream_id(const std::string& kind, const std::string& id) {
  return kind + "-" + id;
}

}  // namespace certctl::domain
