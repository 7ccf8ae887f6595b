// certctl-bench: the benchmarks whose figures docs/benchmarks.md records (DESIGN §13).
#include "tools/audit/cli.hpp"
#include "tools/bench/acme_bench.hpp"
#include "tools/bench/append_bench.hpp"
#include "tools/bench/coldstart_bench.hpp"
#include "tools/bench/issue_bench.hpp"
#include "tools/bench/ocsp_bench.hpp"
#include "tools/bench/stream_bench.hpp"

int main(int argc, char** argv) {
  using namespace certctl;
  // One line per benchmark.
  const std::vector<cli::subcommand> commands = {
      {"append", "event store append throughput under concurrent writers", bench::run_append},
      {"issue", "end-to-end issuance throughput of a running server (server keygen)",
       bench::run_issue},
      {"stream", "commit-to-consumer latency of the Kafka event stream", bench::run_stream},
      {"ocsp", "OCSP responder throughput (POSTed requests for known serials)", bench::run_ocsp},
      {"acme", "complete ACME order flows of a running ACME server (ours or pebble)",
       bench::run_acme},
      {"coldstart", "time to ready and memory of a server over N certificates",
       bench::run_coldstart},
  };
  return cli::dispatch("certctl-bench", "Benchmarks of certctl.", argc, argv, commands);
}
