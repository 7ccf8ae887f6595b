#include "infra/fault_point.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>

#ifdef CERTCTL_FAULT_INJECTION
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#endif

namespace certctl::infra {

#ifdef CERTCTL_FAULT_INJECTION
namespace {

struct armed_fault {
  std::string file;
  std::string point;  ///< empty: not armed
  long skip = 0;
  std::atomic<long> passes{0};
};

/// Read once, at the first pass of any point: the test writes the file before it starts the
/// server.
armed_fault& armed() {
  static armed_fault* a = [] {
    auto* f = new armed_fault;  // never freed: a point may be passed during static destruction
    const char* path = std::getenv("CERTCTL_TEST_FAULT_FILE");
    if (path == nullptr || *path == '\0') return f;
    f->file = path;
    std::ifstream in(f->file);
    if (!(in >> f->point >> f->skip)) f->point.clear();
    return f;
  }();
  return *a;
}

}  // namespace

void fault_point(const char* name) {
  auto& a = armed();
  if (a.point.empty() || a.point != name) return;
  if (a.passes.fetch_add(1) != a.skip) return;
  ::unlink(a.file.c_str());
  std::cerr << "fault injection: SIGKILL at " << name << " (pass " << a.skip + 1 << ")"
            << std::endl;
  std::raise(SIGKILL);
}

bool fault_injection_usable() {
  return true;
}

#else

void fault_point(const char*) {}

bool fault_injection_usable() {
  const char* path = std::getenv("CERTCTL_TEST_FAULT_FILE");
  return path == nullptr || *path == '\0';
}

#endif

}  // namespace certctl::infra
