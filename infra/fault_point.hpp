#pragma once
/// Fault injection for the crash trials (docs/fault-tests.md): a named point in the server
/// where a test can make the process die by SIGKILL, as a power cut would, between two writes
/// that are not one transaction (e.g. "after_key_store_write": the private key is durable in the
/// key store, the certificate version that uses it is not recorded yet).
///
/// Compiled in only with `-DCERTCTL_FAULT_INJECTION=ON` (tools/build.sh sets it for the test
/// build; release and package builds leave it OFF, and then fault_point() does nothing and
/// reads nothing). Armed by the file named in CERTCTL_TEST_FAULT_FILE, holding
/// "<point> <skip>": the process passes <point> `skip` times, and on the next pass deletes the
/// file (so the restarted server runs clean), prints one line to stderr and SIGKILLs itself.

namespace certctl::infra {

/// Dies here when armed for `name` (see above); otherwise returns at once.
void fault_point(const char* name);

/// False when CERTCTL_TEST_FAULT_FILE is set in a build without fault injection: the server
/// refuses to start rather than run a fault test that can inject nothing.
bool fault_injection_usable();

}  // namespace certctl::infra
