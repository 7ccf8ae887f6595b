// certctl-mock-kafka: hosts librdkafka's in-process mock cluster so that several processes
// (servers, kcat, benchmarks) can share one Kafka-protocol cluster on loopback. Prints
// "bootstrap=<host:port,...>" on stdout once the topic exists, then runs until SIGINT/SIGTERM.
#include <csignal>
#include <iostream>
#include <thread>

#include "infra/kafka/mock_cluster.hpp"
#include "tools/audit/cli.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
  stop_requested = 1;
}

std::optional<int> positive(const certctl::cli::parsed_args& a, const std::string& flag,
                            int fallback) {
  const auto text = a.get(flag);
  if (!text) return fallback;
  try {
    size_t used = 0;
    const int v = std::stoi(*text, &used);
    if (used == text->size() && v >= 1 && v <= 1000) return v;
  } catch (const std::exception&) {
    // Reported below, with the flag's name.
  }
  std::cerr << "certctl-mock-kafka: --" << flag << " \"" << *text
            << "\" is not an integer 1-1000\n";
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace certctl;
  cli::arg_parser parser(
      "certctl-mock-kafka [--brokers N] [--partitions P] [--topic T]...",
      "Runs librdkafka's mock Kafka cluster on 127.0.0.1 until SIGINT or SIGTERM. Prints\n"
      "bootstrap=<host:port,...> on stdout when ready. Test use only: each partition keeps\n"
      "about 5 MiB and silently drops older records.");
  parser.option("brokers", "N", "brokers (default 3)")
      .option("partitions", "P", "partitions of each --topic (default 4)")
      .option("topic", "T", "topic to create (repeatable; default certctl.events)", false, true);
  int code = 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = cli::parse_or_exit(parser, args, code);
  if (!parsed) return code;
  const auto brokers = positive(*parsed, "brokers", 3);
  const auto partitions = positive(*parsed, "partitions", 4);
  if (!brokers || !partitions) return cli::exit_usage;
  auto topics = parsed->all("topic");
  if (topics.empty()) topics.push_back("certctl.events");

  auto cluster = kafka::mock_cluster::start(*brokers);
  if (!cluster) {
    std::cerr << "certctl-mock-kafka: " << cluster.error().message << "\n";
    return 1;
  }
  for (const auto& t : topics) {
    if (auto made = (*cluster)->create_topic(t, *partitions); !made) {
      std::cerr << "certctl-mock-kafka: " << made.error().message << "\n";
      return 1;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::cout << "bootstrap=" << (*cluster)->bootstrap_servers() << std::endl;
  while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return 0;
}
