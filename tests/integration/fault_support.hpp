#pragma once
/// Shared machinery of the fault tests (crash_test, pg_restart_test): seeded trial parameters,
/// a private PostgreSQL per test (durable or test-fast), a creation load whose every request is
/// known by id, and the exactly-once checks run after each fault.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "tests/integration/api.hpp"

namespace certctl::integration {

/// Trials and seed of a fault test: CERTCTL_FAULT_TRIALS (default `default_trials`, sized to
/// the CI budget) and CERTCTL_FAULT_SEED (default: random). Both are printed, so a failing
/// trial reproduces with the same seed.
struct fault_plan {
  int trials = 0;
  std::uint64_t seed = 0;
};
fault_plan fault_plan_from_env(int default_trials);

/// A loopback TCP port nobody listens on right now.
int free_loopback_port();

/// The newest /usr/lib/postgresql/<v>/bin, as tools/dev/test-postgres.sh picks it; "" if none.
std::string postgres_bin_dir();

/// A PostgreSQL of one test only, started with tools/dev/test-postgres.sh on a private data dir
/// and port, and stopped/started with pg_ctl the way that script runs it (as `postgres`).
/// `durable`: fsync, synchronous_commit and full_page_writes on (PostgreSQL's defaults), as in
/// production; otherwise the test-fast settings. Fails the test when PostgreSQL is missing.
class private_postgres {
 public:
  private_postgres(const std::string& root, bool durable);
  ~private_postgres();
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// pg_ctl stop -m fast: open sessions are terminated, new connections refused.
  void stop_fast();
  /// pg_ctl stop -m immediate: every PostgreSQL process quits at once without a checkpoint,
  /// as after a power cut of the database host; the next start runs crash recovery.
  void stop_immediate();
  /// pg_ctl start with the options of the constructor (data and port unchanged).
  void start();

  const std::string& url() const { return url_; }
  std::string log() const;

 private:
  void stop_and_remove();
  std::string options() const;
  std::string env() const;
  void pg_ctl(const std::string& args);

  std::string bin_, dir_;
  bool durable_;
  int port_;
  std::string url_;
};

/// GET /ready until 200; false after `timeout` (`last` holds the last answer).
bool wait_ready(const server_process& server, std::chrono::seconds timeout, std::string& last);

/// Every certificate creation a fault test sent, by its client-chosen id. A request is sent
/// with an Idempotency-Key derived from the id, so it can be repeated after the fault.
struct creation_ledger {
  std::mutex mutex;
  std::set<std::string> acknowledged;  ///< answered 201 (or 200: replay of a committed command)
  std::set<std::string> in_flight;     ///< sent, no answer yet (the fault hit them)
  std::map<int, int> other_statuses;   ///< real answers other than 201/200/503 (failures)
  std::atomic<int> next{0};
};

/// The create request for `id` (certificate body plus the client-chosen id) and its key.
std::string creation_body(const std::string& id);
httplib::Headers creation_headers(const std::string& id);

/// Repeats every in-flight request of `ledger` (same id, same Idempotency-Key) until it is
/// answered; a committed command answers its original result, an uncommitted one runs now.
/// Either way the certificate must then exist exactly once. Records a failure on any other
/// answer or when the server does not answer within `timeout`.
struct settled {
  int replayed = 0;  ///< 200: the command had committed before the fault, its answer was lost
  int applied = 0;   ///< 201: the command had not committed and ran now
};
settled settle_in_flight(const server_process& server, creation_ledger& ledger,
                         std::chrono::seconds timeout);

/// The checks after each fault, on a running server:
/// - every acknowledged id exists, became Active (its issuance job ended) within `deadline`
///   and has exactly one version; no serial belongs to two versions;
/// - the certificate count equals the number of acknowledged ids (nothing applied twice or
///   applied without a request);
/// - no job is left Pending or Running.
/// Returns the number of certificates checked.
/// With `postgres_url`, a certificate that does not recover also shows its events as the log
/// holds them (stream or payload naming it), to tell a stale read model from a stuck entity.
int check_exactly_once(const server_process& server, const std::set<std::string>& acknowledged,
                       std::chrono::seconds deadline, const std::string& postgres_url = "");

/// certctl-audit verify on `store_url` (the server stopped or running); records a failure
/// unless it passes.
void check_audit_chain(const std::string& store_url);

}  // namespace certctl::integration
