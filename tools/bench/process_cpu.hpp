#pragma once
/// CPU time of another process (the server under test), read from /proc/<pid>/stat, so a
/// run can report the server's CPU per issued certificate or per ACME order: the budget the
/// throughput targets are judged against when the client shares the cores.

#include <optional>

namespace certctl::bench {

/// User plus system CPU seconds `pid` has used so far (its threads included); nothing when
/// the process does not exist or /proc cannot be read.
std::optional<double> process_cpu_seconds_of(long pid);

}  // namespace certctl::bench
