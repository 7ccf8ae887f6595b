// certctl-audit as an operator runs it: the built binary, against a store this test fills.
#define BOOST_TEST_MODULE tools
#include <sys/wait.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "events/event_codec.hpp"
#include "events/time.hpp"
#include "infra/crypto/random.hpp"
#include "tests/infra/store/store_fixture.hpp"
#include "tests/support/subprocess.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using testing::store_fixture;

namespace {

const std::string audit_binary = std::string(CERTCTL_BINARY_DIR) + "/tools/audit/certctl-audit";

// 2026-11-27T08:00:00Z; event i occurred i minutes later.
constexpr events::timestamp_us t0 = 1795766400LL * 1000000;
constexpr events::timestamp_us minute = 60LL * 1000000;
const char* const types[] = {"certificate.requested", "certificate.issued", "certificate.revoked"};

using testing::process_result;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs certctl-audit with `args`; standard output and error are kept apart.
process_result audit(const std::vector<std::string>& args) {
  return testing::run_shell(testing::command_line(audit_binary, args), true);
}

/// Appends `n` events: event i (1-based position) has type types[i % 3], occurred at
/// t0 + i minutes, payload {"seq":i,"subject":"CN=host-i"}.
void fill(store::event_store& s, int n) {
  for (int i = 1; i <= n; ++i) {
    store::append_request r;
    r.stream_id = "certificate-" + std::to_string(i % 4);
    r.expected = store::expected_version::any();
    auto e = testing::make_event(
        types[i % 3],
        "{\"seq\":" + std::to_string(i) + ",\"subject\":\"CN=host-" + std::to_string(i) + "\"}");
    e.occurred_at = t0 + i * minute;
    r.events.push_back(std::move(e));
    auto done = s.append(std::move(r));
    BOOST_REQUIRE_MESSAGE(done.ok(), (done.ok() ? "" : done.error().message));
  }
}

std::vector<events::recorded_event> all_events(store::event_store& s) {
  auto r = s.read_all(1, 100000);
  BOOST_REQUIRE(r.ok());
  return *r;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_verify)

BOOST_DATA_TEST_CASE(an_intact_log_verifies_with_its_count_and_head,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  store_fixture f(backend);
  fill(f.store(), 25);
  const auto head = all_events(f.store()).back().hash;
  auto r = audit({"verify", "--store", f.url()});
  BOOST_TEST(r.exit_code == 0, r.err);
  BOOST_TEST(r.out ==
             "verified 25 events, head 25 " + head + "\n" +
                 "note: no checkpoint covers this log: a deleted tail would go unnoticed\n");
}

BOOST_DATA_TEST_CASE(one_changed_payload_byte_is_found_at_its_position,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  store_fixture f(backend);
  fill(f.store(), 12);
  // "host-7" -> "host-8": one byte, in the middle of the log.
  f.exec_sql_unguarded(
      "UPDATE events SET payload = replace(payload, 'host-7', 'host-8') WHERE position = 7");
  auto r = audit({"verify", "--store", f.url()});
  BOOST_TEST(r.exit_code == 1, r.err);
  BOOST_TEST(contains(r.out, "chain broken at position 7: "), r.out);
  BOOST_TEST(contains(r.out, "6 events verified before it"), r.out);
}

BOOST_AUTO_TEST_CASE(a_deleted_event_is_reported_as_missing) {
  store_fixture f("sqlite");
  fill(f.store(), 6);
  f.exec_sql_unguarded("DELETE FROM events WHERE position = 4");
  auto r = audit({"verify", "--store", f.url()});
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(contains(r.out, "chain broken at position 4: position 4 is missing"), r.out);
}

BOOST_DATA_TEST_CASE(a_command_row_that_disagrees_with_the_chain_is_reported,
                     bdata::make(std::vector<std::string>{"sqlite", "postgres"}), backend) {
  // The command table is outside the chain; verify checks it against the events' causation.
  store_fixture f(backend);
  fill(f.store(), 3);
  store::append_request r;
  r.stream_id = "certificate-9";
  r.expected = store::expected_version::any();
  r.command_id = "certificate.renew:key-1";
  for (int i = 0; i < 2; ++i) {
    auto e = testing::make_event(types[0], "{\"seq\":" + std::to_string(4 + i) + "}");
    e.causation_id = r.command_id;
    r.events.push_back(std::move(e));
  }
  BOOST_REQUIRE(f.store().append(std::move(r)).ok());
  fill(f.store(), 2);
  auto ok = audit({"verify", "--store", f.url()});
  BOOST_TEST(ok.exit_code == 0, ok.out << ok.err);
  BOOST_TEST(contains(ok.out, "1 recorded commands agree with the chain"), ok.out);

  // Pointing at another command's event: a forged "already done".
  f.exec_sql_unguarded("UPDATE commands SET position = 2");
  auto forged = audit({"verify", "--store", f.url()});
  BOOST_TEST(forged.exit_code == 1, forged.out << forged.err);
  BOOST_TEST(contains(forged.out,
                      "command table inconsistent with the chain: command "
                      "certificate.renew:key-1 claims position 2"),
             forged.out);
  // Claiming less than the command wrote.
  f.exec_sql_unguarded("UPDATE commands SET position = 4");
  auto short_claim = audit({"verify", "--store", f.url()});
  BOOST_TEST(short_claim.exit_code == 1, short_claim.out);
  BOOST_TEST(contains(short_claim.out, "its event at position 5 lies beyond it"), short_claim.out);
  // Past the head.
  f.exec_sql_unguarded("UPDATE commands SET position = 99");
  auto past = audit({"verify", "--store", f.url()});
  BOOST_TEST(past.exit_code == 1, past.out);
  BOOST_TEST(contains(past.out, "claims position 99, where the log has no event"), past.out);
}

BOOST_AUTO_TEST_CASE(an_empty_log_verifies) {
  store_fixture f("sqlite");
  auto r = audit({"verify", "--store", f.url()});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out ==
             "verified 0 events, head 0 " + events::genesis_hash() + "\n" +
                 "note: no checkpoint covers this log: a deleted tail would go unnoticed\n");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(audit_export)

BOOST_AUTO_TEST_CASE(jsonl_with_a_time_window_and_repeated_types_writes_exactly_the_matches) {
  store_fixture f("sqlite");
  fill(f.store(), 12);
  // Window [t0+3min, t0+9min): positions 3..8; issued (i%3==1) or revoked (i%3==2): 4,5,7,8.
  auto r = audit({"export", "--store", f.url(), "--format", "jsonl", "--from",
                  events::format_rfc3339(t0 + 3 * minute), "--to", "2026-11-27T09:09:00+01:00",
                  "--type", "certificate.issued", "--type", "certificate.revoked"});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  std::vector<std::string> expected;
  for (const auto& e : all_events(f.store()))
    if (e.position == 4 || e.position == 5 || e.position == 7 || e.position == 8)
      expected.push_back(events::to_json(e));
  BOOST_TEST(lines(r.out) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(csv_to_a_file_with_a_comma_separated_type_list) {
  store_fixture f("sqlite");
  fill(f.store(), 9);
  const auto out =
      std::filesystem::temp_directory_path() / ("certctl-export-" + crypto::random_hex(6) + ".csv");
  auto r = audit({"export", "--store", f.url(), "--format", "csv", "--type",
                  "certificate.requested,certificate.revoked", "--from", "2026-11-27T08:02:00Z",
                  "--output", out.string()});
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  BOOST_TEST(r.out.empty());
  std::vector<std::string> expected = {events::csv_header()};
  for (const auto& e : all_events(f.store()))
    if (e.position >= 2 && e.position % 3 != 1) expected.push_back(events::to_csv_row(e));
  BOOST_TEST(expected.size() == 7u);  // header + 2,3,5,6,8,9
  BOOST_TEST(lines(read_file(out.string())) == expected, boost::test_tools::per_element());
  std::filesystem::remove(out);
}

BOOST_AUTO_TEST_CASE(without_filters_every_event_is_written_in_position_order) {
  store_fixture f("sqlite");
  fill(f.store(), 5);
  auto r = audit({"export", "--store", f.url(), "--format=jsonl"});
  BOOST_REQUIRE(r.exit_code == 0);
  std::vector<std::string> expected;
  for (const auto& e : all_events(f.store())) expected.push_back(events::to_json(e));
  BOOST_TEST(lines(r.out) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(audit_errors)

BOOST_AUTO_TEST_CASE(a_bad_store_url_exits_2_with_a_message) {
  auto bad = audit({"verify", "--store", "nosuch://x"});
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(contains(bad.err, "malformed store URL"), bad.err);
  BOOST_TEST(bad.out.empty());

  auto missing =
      audit({"export", "--store", "sqlite:///nonexistent/certctl/events.db", "--format", "csv"});
  BOOST_TEST(missing.exit_code == 2);
  BOOST_TEST(contains(missing.err, "no SQLite event store at /nonexistent/certctl/events.db"));

  auto unreachable = audit({"verify", "--store", "postgresql://postgres@127.0.0.1:1/none"});
  BOOST_TEST(unreachable.exit_code == 2);
  BOOST_TEST(contains(unreachable.err, "cannot open PostgreSQL event store"), unreachable.err);
}

BOOST_AUTO_TEST_CASE(malformed_command_lines_exit_2_naming_the_flag) {
  store_fixture f("sqlite");
  auto unknown = audit({"verify", "--store", f.url(), "--frobnicate"});
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(contains(unknown.err, "--frobnicate"), unknown.err);

  auto bad_time = audit({"export", "--store", f.url(), "--format", "csv", "--from", "yesterday"});
  BOOST_TEST(bad_time.exit_code == 2);
  BOOST_TEST(contains(bad_time.err, "--from"), bad_time.err);

  auto bad_to =
      audit({"export", "--store", f.url(), "--format", "csv", "--to", "2026-11-27T08:00:00"});
  BOOST_TEST(bad_to.exit_code == 2);
  BOOST_TEST(contains(bad_to.err, "--to"), bad_to.err);

  auto no_format = audit({"export", "--store", f.url()});
  BOOST_TEST(no_format.exit_code == 2);
  BOOST_TEST(contains(no_format.err, "--format"), no_format.err);

  auto bad_format = audit({"export", "--store", f.url(), "--format", "xml"});
  BOOST_TEST(bad_format.exit_code == 2);
  BOOST_TEST(contains(bad_format.err, "--format"), bad_format.err);

  auto no_command = audit({"frobnicate"});
  BOOST_TEST(no_command.exit_code == 2);
  BOOST_TEST(contains(no_command.err, "unknown command"), no_command.err);
}

BOOST_AUTO_TEST_CASE(help_is_printed_for_the_tool_and_each_command) {
  auto top = audit({"--help"});
  BOOST_TEST(top.exit_code == 0);
  BOOST_TEST(contains(top.out, "verify"));
  BOOST_TEST(contains(top.out, "export"));
  for (const char* cmd : {"verify", "export"}) {
    auto r = audit({cmd, "--help"});
    BOOST_TEST(r.exit_code == 0);
    BOOST_TEST(contains(r.out, std::string("usage: certctl-audit ") + cmd));
    BOOST_TEST(contains(r.out, "--store"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
