#pragma once
/// The cloud discovery loop (issue 16 item 3): every configured cloud secret-store source
/// (AWS Secrets Manager, Azure Key Vault, GCP Secret Manager; connectors/discovery/) is listed
/// in turn and what it found goes through the one discovery pipeline
/// (actors/workflows/discovery.hpp) under the source's name and sentinel id, so a certificate
/// seen in a cloud store and on a server is one discovered certificate with two locations.
/// Sources run sequentially; one failing does not stop the others, and its failure is
/// recorded as a scan with the error, so the inventory shows the source is not being read.

#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/tick_report.hpp"
#include "connectors/discovery/discovery_source.hpp"

namespace certctl::schedulers {

struct cloud_discovery_source {
  std::string source;     ///< the pipeline's source name, e.g. "aws-secrets-manager"
  std::string source_id;  ///< the sentinel id, e.g. "cloud-aws-sm"
  std::shared_ptr<connectors::discovery_source> connector;
};

class cloud_discovery_loop {
 public:
  /// `runtime` must outlive the loop.
  cloud_discovery_loop(actors::entity_runtime& runtime,
                       std::vector<cloud_discovery_source> sources);

  /// Lists every source once and records the findings; one action per source
  /// ("discovery_scan.record", the sentinel id, "<found> found, <warnings> warnings").
  tick_report tick(events::timestamp_us now);

  const std::vector<cloud_discovery_source>& sources() const { return sources_; }

 private:
  actors::entity_runtime& runtime_;
  std::vector<cloud_discovery_source> sources_;
};

}  // namespace certctl::schedulers
