#pragma once
/// SCEP probe (network scanner): GetCACaps + GetCACert against a SCEP server URL, never a
/// PKCSReq, every connection through the outbound guard (CERTCTL_OUTBOUND_ALLOW_CIDRS).
/// POST /api/v1/network-scan/scep-probe runs one; GET /api/v1/network-scan/scep-probes lists
/// the recent results (newest first). History is kept in this node's memory (the last 200),
/// not in the event log: a probe changes nothing and is not an audited action.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "gateways/http/router.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::gateways::scep {

struct scep_probe_options {
  net::outbound_guard guard;
  std::string ca_bundle_path;  ///< for https targets; "" = the system store
  std::chrono::milliseconds timeout{10000};
  std::size_t history = 200;
};

class scep_prober {
 public:
  scep_prober(scep_probe_options options, std::function<std::int64_t()> now_us);

  /// Runs the probe; returns the SCEPProbeResult JSON (sub-step failures in "error").
  std::string probe(const std::string& url);

  /// Registers the two routes (operator for the probe, viewer for the history).
  void add_routes(http::router& r);

 private:
  scep_probe_options opt_;
  std::function<std::int64_t()> now_us_;
  std::mutex mu_;
  std::deque<std::string> recent_;  ///< newest first
};

}  // namespace certctl::gateways::scep
