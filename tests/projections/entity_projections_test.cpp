// The entity read models (certificates, versions, jobs, resources) and their queries.
#include <rapidjson/document.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "domain/aggregate.hpp"
#include "events/time.hpp"
#include "projections/certificate_queries.hpp"
#include "projections/entity_projections.hpp"
#include "projections/entity_queries.hpp"
#include "projections/projector.hpp"
#include "tests/projections/test_projections.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::projections;
using testing::projection_env;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;
constexpr events::timestamp_us minute = 60000000;
constexpr events::timestamp_us day = 1440 * minute;

std::string cert_body(int i, const char* env) {
  return "{\"name\":\"web-" + std::to_string(i) + "\",\"common_name\":\"web" + std::to_string(i) +
         ".example.com\",\"sans\":[\"a" + std::to_string(i) + ".example.com\"],\"environment\":\"" +
         env + "\",\"owner_id\":\"o-" + std::to_string(i % 2) +
         "\",\"team_id\":\"t-1\",\"issuer_id\":\"iss-local\",\"renewal_policy_id\":\"rp-1\"}";
}

std::string issued_body(const std::string& serial, events::timestamp_us not_after, bool renewal,
                        const std::string& version_id = "") {
  return "{\"job_id\":\"j\",\"serial_number\":\"" + serial +
         "\",\"not_before\":\"2026-09-21T00:00:00Z\",\"not_after\":\"" +
         events::format_rfc3339(not_after) +
         "\",\"fingerprint_sha256\":\"ff\",\"pem_chain\":\"PEM-" + serial +
         "\",\"key_algorithm\":\"ECDSA\",\"key_size\":256,\"renewal\":" +
         (renewal ? "true" : "false") +
         (version_id.empty() ? "" : ",\"version_id\":\"" + version_id + "\"") + "}";
}

/// Certificates mc-0..mc-4, jobs, issuers and agents; returns the last position.
std::int64_t seed(projection_env& env) {
  const char* envs[] = {"prod", "staging", "prod", "dev", "prod"};
  events::timestamp_us t = t0;
  auto at = [&t] { return t += minute; };
  for (int i = 0; i < 5; ++i)
    env.append("certificate-mc-" + std::to_string(i), "certificate.created", cert_body(i, envs[i]),
               "apikey-alice", at());
  env.append("certificate-mc-0", "certificate.issued", issued_body("s-01", t0 + 90 * day, false),
             "system:issuer", at());
  env.append("certificate-mc-0", "certificate.renewal_requested", "{\"job_id\":\"job-2\"}",
             "system:renewal", at());
  env.append("certificate-mc-0", "certificate.issued",
             issued_body("s-02", t0 + 10 * day, true, "ver-2"), "system:issuer", at());
  env.append("certificate-mc-1", "certificate.issued", issued_body("s-11", t0 + 60 * day, false),
             "system:issuer", at());
  env.append("certificate-mc-1", "certificate.revoked",
             "{\"reason\":\"keyCompromise\",\"reason_code\":1,\"serial_number\":\"s-11\"}",
             "apikey-alice", at());
  env.append("certificate-mc-2", "certificate.issuance_failed",
             "{\"job_id\":\"j\",\"error\":\"x\"}", "system:issuer", at());
  env.append("certificate-mc-3", "certificate.updated",
             "{\"environment\":\"prod\",\"tags\":{\"k\":\"v\"}}", "apikey-alice", at());

  env.append("job-j1", "job.created",
             "{\"type\":\"Issuance\",\"certificate_id\":\"mc-4\",\"status\":\"AwaitingCSR\","
             "\"max_attempts\":3,\"awaiting_csr_mode\":\"agent\",\"agent_id\":\"ag-1\","
             "\"target_id\":\"tg-1\"}",
             "apikey-alice", at());
  env.append("job-j2", "job.created",
             "{\"type\":\"Renewal\",\"certificate_id\":\"mc-0\",\"status\":\"Pending\","
             "\"max_attempts\":3,\"awaiting_csr_mode\":\"server\"}",
             "system:renewal", at());
  env.append("job-j2", "job.started", "{}", "system:jobs", at());
  env.append("job-j2", "job.completed", "{\"version_id\":\"ver-2\"}", "system:jobs", at());
  env.append("job-j3", "job.created",
             "{\"type\":\"Issuance\",\"certificate_id\":\"mc-3\",\"status\":\"AwaitingCSR\","
             "\"max_attempts\":3,\"awaiting_csr_mode\":\"agent\",\"agent_id\":\"ag-1\"}",
             "apikey-alice", at());
  env.append("job-j3", "job.csr_submitted", "{\"csr_pem\":\"CSR\"}", "agent:ag-1", at());
  env.append("job-j3", "job.started", "{}", "agent:ag-1", at());
  env.append("job-j3", "job.failed",
             "{\"error\":\"ca down\",\"retry\":true,\"next_attempt_at\":\"2026-09-22T00:00:00Z\"}",
             "system:jobs", at());

  env.append("issuer-iss-local", "issuer.created",
             "{\"name\":\"Local\",\"type\":\"GenericCA\",\"config\":{},\"enabled\":true}",
             "apikey-alice", at());
  env.append("issuer-iss-acme", "issuer.created",
             "{\"name\":\"ACME\",\"type\":\"ACME\",\"config\":{},\"enabled\":true}", "apikey-alice",
             at());
  env.append("issuer-iss-acme", "issuer.updated", "{\"enabled\":false}", "apikey-alice", at());
  env.append("issuer-iss-old", "issuer.created", "{\"name\":\"Old\",\"type\":\"ACME\"}",
             "apikey-alice", at());
  env.append("issuer-iss-old", "issuer.deleted", "{}", "apikey-alice", at());
  env.append("renewal_policy-rp-1", "renewal_policy.created",
             "{\"name\":\"default\",\"renewal_window_days\":30}", "apikey-alice", at());
  env.append("agent-ag-1", "agent.registered", "{\"name\":\"edge-1\",\"hostname\":\"h1\"}",
             "apikey-alice", at());
  env.append("agent-ag-2", "agent.registered", "{\"name\":\"edge-2\"}", "apikey-alice", at());
  env.append("agent-ag-2", "agent.marked_offline", "{}", "system:health", at());
  env.append("agent-ag-3", "agent.registered", "{\"name\":\"edge-3\"}", "apikey-alice", at());
  env.append("agent-ag-3", "agent.retired", "{\"reason\":\"decommissioned\"}", "apikey-alice",
             at());
  return env.append("agent-ag-1", "agent.heartbeat_received", "{\"version\":\"2.0.1\"}",
                    "agent:ag-1", at());
}

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  BOOST_REQUIRE_MESSAGE(!d.HasParseError() && d.IsObject(), json);
  return d;
}

std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<absent>";
  return v[key].GetString();
}

template <class T>
T must(db_result<T> r) {
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r).value();
}

/// The "id" of every element of a page.
std::vector<std::string> ids(const json_page& page) {
  std::vector<std::string> out;
  for (const auto& d : page.data) out.push_back(str(parse(d), "id"));
  return out;
}

using strings = std::vector<std::string>;

/// The JSON of a get_* result that must have found its entity.
std::string present(const std::optional<std::string>& doc) {
  BOOST_REQUIRE(doc.has_value());
  return *doc;
}

struct seeded {
  explicit seeded(const std::string& backend) : env(backend), p(env.log.store(), env.db) {
    last = seed(env);
    BOOST_REQUIRE(register_entity_projections(p).ok());
    BOOST_REQUIRE(*p.catch_up() == last);
  }
  projection_env env;
  projector p;
  std::int64_t last = 0;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(entity_projections_suite)

BOOST_DATA_TEST_CASE(certificates_list_filter_sort_and_page,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;

  certificate_filter all;
  auto page = must(list_certificates(db, all));
  BOOST_TEST(page.total == 5);
  BOOST_TEST(ids(page) == (strings{"mc-4", "mc-3", "mc-2", "mc-1", "mc-0"}));

  all.per_page = 2;
  all.page = 3;
  page = must(list_certificates(db, all));
  BOOST_TEST(ids(page) == strings{"mc-0"});
  BOOST_TEST(page.total == 5);
  all.page = 4;
  page = must(list_certificates(db, all));
  BOOST_TEST(page.data.empty());
  BOOST_TEST(page.total == 5);

  certificate_filter f;
  f.environment = "prod";  // mc-3 was moved to prod by an update
  BOOST_TEST(ids(must(list_certificates(db, f))) == (strings{"mc-4", "mc-3", "mc-2", "mc-0"}));
  f.owner_id = "o-0";
  BOOST_TEST(ids(must(list_certificates(db, f))) == (strings{"mc-4", "mc-2", "mc-0"}));
  f.status = "Active";
  BOOST_TEST(ids(must(list_certificates(db, f))) == strings{"mc-0"});

  certificate_filter by_status;
  by_status.status = "Revoked";
  BOOST_TEST(ids(must(list_certificates(db, by_status))) == strings{"mc-1"});
  by_status.status = "Pending";
  BOOST_TEST(ids(must(list_certificates(db, by_status))) == (strings{"mc-4", "mc-3"}));
  certificate_filter by_issuer;
  by_issuer.issuer_id = "iss-none";
  BOOST_TEST(must(list_certificates(db, by_issuer)).total == 0);

  certificate_filter sorted;
  sorted.sort = "expires_at";  // mc-0 (10 days), mc-1 (60 days), then the unissued ones
  BOOST_TEST(ids(must(list_certificates(db, sorted))) ==
             (strings{"mc-0", "mc-1", "mc-2", "mc-3", "mc-4"}));
  sorted.sort = "created_at";
  BOOST_TEST(ids(must(list_certificates(db, sorted))).front() == "mc-0");
  sorted.sort = "-common_name";
  BOOST_TEST(ids(must(list_certificates(db, sorted))).front() == "mc-4");
  sorted.sort = "serial; DROP TABLE x";
  BOOST_TEST(list_certificates(db, sorted).error().code == db_errc::invalid_argument);

  certificate_filter bad;
  bad.per_page = 501;
  BOOST_TEST(list_certificates(db, bad).error().code == db_errc::invalid_argument);
  bad.per_page = 1;
  bad.page = 0;
  BOOST_TEST(list_certificates(db, bad).error().code == db_errc::invalid_argument);

  const auto body = parse(page_json(must(list_certificates(db, certificate_filter{}))));
  BOOST_TEST(body["data"].Size() == 5u);
  BOOST_TEST(body["total"].GetInt64() == 5);
  BOOST_TEST(body["page"].GetInt64() == 1);
  BOOST_TEST(body["per_page"].GetInt64() == 50);
}

BOOST_DATA_TEST_CASE(a_certificate_and_its_versions_render_as_the_api_objects,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;

  BOOST_TEST(!must(get_certificate(db, "mc-9")).has_value());
  const auto mc0 = parse(present(must(get_certificate(db, "mc-0"))));
  BOOST_TEST(str(mc0, "id") == "mc-0");
  BOOST_TEST(str(mc0, "name") == "web-0");
  BOOST_TEST(str(mc0, "common_name") == "web0.example.com");
  BOOST_TEST(str(mc0, "status") == "Active");
  BOOST_TEST(str(mc0, "expires_at") == events::format_rfc3339(t0 + 10 * day));
  BOOST_TEST(str(mc0, "last_renewal_at") == events::format_rfc3339(t0 + 8 * minute));
  BOOST_TEST(str(mc0, "created_at") == events::format_rfc3339(t0 + minute));
  BOOST_TEST(str(mc0, "updated_at") == events::format_rfc3339(t0 + 8 * minute));
  BOOST_TEST(mc0["sans"].Size() == 1u);
  BOOST_TEST(mc0["target_ids"].IsArray());
  BOOST_TEST(mc0["tags"].IsObject());
  BOOST_TEST(!mc0.HasMember("serial_number"));
  BOOST_TEST(!mc0.HasMember("fingerprint_sha256"));

  const auto mc1 = parse(present(must(get_certificate(db, "mc-1"))));
  BOOST_TEST(str(mc1, "status") == "Revoked");
  BOOST_TEST(str(mc1, "revocation_reason") == "keyCompromise");
  BOOST_TEST(str(mc1, "revoked_at") == events::format_rfc3339(t0 + 10 * minute));
  BOOST_TEST(!mc1.HasMember("last_renewal_at"));
  const auto mc3 = parse(present(must(get_certificate(db, "mc-3"))));
  BOOST_TEST(str(mc3, "environment") == "prod");
  BOOST_TEST(str(mc3["tags"], "k") == "v");
  BOOST_TEST(str(parse(present(must(get_certificate(db, "mc-2")))), "status") == "Failed");

  const auto versions = must(list_certificate_versions(db, "mc-0"));
  BOOST_TEST(versions.total == 2);
  BOOST_REQUIRE(versions.data.size() == 2u);
  const auto newest = parse(versions.data[0]);
  BOOST_TEST(str(newest, "id") == "ver-2");
  BOOST_TEST(str(newest, "certificate_id") == "mc-0");
  BOOST_TEST(str(newest, "serial_number") == "s-02");
  BOOST_TEST(str(newest, "pem_chain") == "PEM-s-02");
  BOOST_TEST(str(newest, "not_after") == events::format_rfc3339(t0 + 10 * day));
  BOOST_TEST(str(newest, "key_algorithm") == "ECDSA");
  BOOST_TEST(newest["key_size"].GetInt64() == 256);
  BOOST_TEST(!newest.HasMember("csr_pem"));
  BOOST_TEST(str(parse(versions.data[1]), "serial_number") == "s-01");
  const auto second = must(list_certificate_versions(db, "mc-0", 2, 1));
  BOOST_TEST(second.total == 2);
  BOOST_TEST(str(parse(second.data.at(0)), "serial_number") == "s-01");
  BOOST_TEST(must(list_certificate_versions(db, "mc-4")).total == 0);

  const auto latest = must(get_latest_certificate_version(db, "mc-0"));
  BOOST_REQUIRE(latest.has_value());
  BOOST_TEST(latest->serial_number == "s-02");
  BOOST_TEST(latest->pem_chain == "PEM-s-02");
  BOOST_TEST(!must(get_latest_certificate_version(db, "mc-4")).has_value());
}

BOOST_DATA_TEST_CASE(jobs_list_get_and_agent_work, bdata::make(testing::conformance_backends()),
                     backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;

  BOOST_TEST(ids(must(list_jobs(db, job_filter{}))) == (strings{"j3", "j2", "j1"}));
  job_filter f;
  f.status = "AwaitingCSR";  // j3 failed with a retry in agent mode
  BOOST_TEST(ids(must(list_jobs(db, f))) == (strings{"j3", "j1"}));
  f.type = "Renewal";
  BOOST_TEST(must(list_jobs(db, f)).total == 0);
  job_filter by_cert;
  by_cert.certificate_id = "mc-0";
  BOOST_TEST(ids(must(list_jobs(db, by_cert))) == strings{"j2"});

  BOOST_TEST(!must(get_job(db, "none")).has_value());
  const auto j2 = parse(present(must(get_job(db, "j2"))));
  BOOST_TEST(str(j2, "status") == "Completed");
  BOOST_TEST(str(j2, "type") == "Renewal");
  BOOST_TEST(j2["attempts"].GetInt64() == 1);
  BOOST_TEST(j2["max_attempts"].GetInt64() == 3);
  BOOST_TEST(str(j2, "scheduled_at") == str(j2, "created_at"));
  BOOST_TEST(str(j2, "started_at") != "<absent>");
  BOOST_TEST(str(j2, "completed_at") != "<absent>");
  BOOST_TEST(!j2.HasMember("awaiting_csr_mode"));
  const auto j3 = parse(present(must(get_job(db, "j3"))));
  BOOST_TEST(str(j3, "last_error") == "ca down");
  BOOST_TEST(str(j3, "scheduled_at") == "2026-09-22T00:00:00Z");

  const auto work = must(list_agent_work(db, "ag-1"));
  BOOST_REQUIRE(work.size() == 2u);
  BOOST_TEST(work[0].job_id == "j1");
  BOOST_TEST(work[0].common_name == "web4.example.com");
  BOOST_TEST(work[0].sans == strings{"a4.example.com"});
  BOOST_TEST(work[0].target_id == "tg-1");
  BOOST_TEST(work[1].job_id == "j3");
  BOOST_TEST(must(list_agent_work(db, "ag-2")).empty());
  const auto body = parse(agent_work_json(work));
  BOOST_TEST(body["count"].GetInt64() == 2);
  BOOST_TEST(str(body["jobs"][0], "id") == "j1");
  BOOST_TEST(str(body["jobs"][0], "status") == "AwaitingCSR");
  BOOST_TEST(body["jobs"][0]["sans"].Size() == 1u);
  BOOST_TEST(!body["jobs"][1].HasMember("target_id"));
}

BOOST_DATA_TEST_CASE(resources_list_get_deleted_and_retired,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;

  BOOST_TEST(ids(must(list_resources(db, "issuer"))) == (strings{"iss-acme", "iss-local"}));
  BOOST_TEST(!must(get_resource(db, "issuer", "iss-old")).has_value());
  const auto acme = parse(present(must(get_resource(db, "issuer", "iss-acme"))));
  BOOST_TEST(acme["enabled"].GetBool() == false);
  BOOST_TEST(str(acme, "type") == "ACME");
  BOOST_TEST(ids(must(list_resources(db, "renewal_policy"))) == strings{"rp-1"});
  BOOST_TEST(list_resources(db, "widget").error().code == db_errc::invalid_argument);
  BOOST_TEST(must(list_resources(db, "issuer", 2, 1)).total == 2);

  BOOST_TEST(ids(must(list_resources(db, "agent"))) == (strings{"ag-2", "ag-1"}));
  BOOST_TEST(ids(must(list_retired_agents(db))) == strings{"ag-3"});
  const auto ag1 = parse(present(must(get_resource(db, "agent", "ag-1"))));
  BOOST_TEST(str(ag1, "status") == "Online");
  BOOST_TEST(str(ag1, "version") == "2.0.1");
  BOOST_TEST(str(ag1, "hostname") == "h1");
  BOOST_TEST(str(ag1, "registered_at") != "<absent>");
  BOOST_TEST(str(ag1, "last_heartbeat_at") == str(ag1, "updated_at"));
  BOOST_TEST(str(parse(present(must(get_resource(db, "agent", "ag-2")))), "status") == "Offline");
  const auto ag3 = parse(present(must(get_resource(db, "agent", "ag-3"))));
  BOOST_TEST(str(ag3, "retired_reason") == "decommissioned");
  BOOST_TEST(str(ag3, "retired_at") != "<absent>");
}

BOOST_DATA_TEST_CASE(stats_count_the_read_models, bdata::make(testing::conformance_backends()),
                     backend) {
  seeded s(backend);
  const auto st = must(get_entity_stats(*s.env.db, t0 + day, 30));
  BOOST_TEST(st.total_certificates == 5);
  BOOST_TEST(st.certificates_by_status.at("Pending") == 2);
  BOOST_TEST(st.certificates_by_status.at("Active") == 1);
  BOOST_TEST(st.expiring_within_window == 1);  // mc-0; mc-1 is revoked
  BOOST_TEST(st.jobs_by_status.at("AwaitingCSR") == 2);
  BOOST_TEST(st.total_agents == 2);
  const auto summary = parse(dashboard_summary_json(st, t0 + day));
  BOOST_TEST(summary["revoked_certificates"].GetInt64() == 1);
  BOOST_TEST(summary["pending_jobs"].GetInt64() == 2);
  BOOST_TEST(summary["complete_jobs"].GetInt64() == 1);
  BOOST_TEST(summary["active_agents"].GetInt64() == 1);
  BOOST_TEST(summary["offline_agents"].GetInt64() == 1);
}

// One fold per entity: the read model folds with the domain's fold, so what a projection
// stores is what the aggregate shows, whatever the mix of events.
BOOST_DATA_TEST_CASE(the_projected_view_equals_the_aggregates_view_after_mixed_events,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  events::timestamp_us t = t0 + day;
  auto at = [&t] { return t += minute; };
  s.env.append("certificate-mc-0", "certificate.status_changed",
               "{\"status\":\"Expiring\",\"from\":\"Active\"}", "system:renewal", at());
  s.env.append("certificate-mc-2", "certificate.updated", "{\"name\":\"renamed\"}", "apikey-alice",
               at());
  s.env.append("certificate-mc-2", "certificate.archived", "{}", "apikey-alice", at());
  s.env.append("job-j1", "job.csr_submitted", "{\"csr_pem\":\"CSR\"}", "agent:ag-1", at());
  s.env.append("job-j1", "job.started", "{}", "agent:ag-1", at());
  s.env.append("job-j1", "job.failed", "{\"error\":\"fatal\",\"retry\":false}", "system:jobs",
               at());
  s.env.append("job-j3", "job.cancelled", "{\"reason\":\"operator\"}", "apikey-alice", at());
  s.env.append("issuer-iss-local", "issuer.crl_published", "{\"crl_number\":3}", "system:crl",
               at());
  s.env.append("issuer-iss-old", "issuer.created", "{\"name\":\"Old again\",\"type\":\"ACME\"}",
               "apikey-alice", at());
  s.env.append("agent-ag-2", "agent.heartbeat_received", "{\"version\":\"2.1\"}", "agent:ag-2",
               at());
  const std::int64_t last =
      s.env.append("agent-ag-2", "agent.updated", "{\"name\":\"edge-2b\"}", "apikey-alice", at());
  BOOST_REQUIRE(*s.p.catch_up() == last);

  sql::database& db = *s.env.db;
  const std::pair<const char*, const char*> entities[] = {
      {"certificate", "mc-0"}, {"certificate", "mc-1"}, {"certificate", "mc-2"},
      {"certificate", "mc-3"}, {"certificate", "mc-4"}, {"job", "j1"},
      {"job", "j2"},           {"job", "j3"},           {"issuer", "iss-local"},
      {"issuer", "iss-acme"},  {"issuer", "iss-old"},   {"renewal_policy", "rp-1"},
      {"agent", "ag-1"},       {"agent", "ag-2"},       {"agent", "ag-3"}};
  for (const auto& [kind, id] : entities) {
    BOOST_TEST_CONTEXT(kind << "-" << id) {
      auto aggregate = domain::make_aggregate(kind, id);
      BOOST_REQUIRE(aggregate);
      auto stream = s.env.log.store().read_stream(domain::stream_id(kind, id));
      BOOST_REQUIRE(stream.ok());
      BOOST_REQUIRE(!stream->empty());
      for (const auto& e : *stream) aggregate->apply(e);
      BOOST_REQUIRE(aggregate->exists());
      const std::string kind_s = kind;
      const std::string projected = kind_s == "certificate" ? present(must(get_certificate(db, id)))
                                    : kind_s == "job"       ? present(must(get_job(db, id)))
                                                      : present(must(get_resource(db, kind, id)));
      const std::string folded = aggregate->view().dump();
      // Same members and values; rapidjson compares objects by member name, since hiding
      // a job's awaiting_csr_mode (json_object::remove) may reorder members.
      BOOST_TEST((parse(projected) == parse(folded)), projected << " vs " << folded);
      // Updates write only the columns that changed: the filter columns still follow the doc.
      if (kind_s == "certificate" || kind_s == "job") {
        auto cols =
            db.query("SELECT status, " + std::string(kind_s == "job" ? "type" : "name") + " FROM " +
                         (kind_s == "job" ? "jobs" : "certificates") + " WHERE id = ?",
                     {std::string(id)});
        BOOST_REQUIRE(cols.ok());
        BOOST_REQUIRE(cols->size() == 1u);
        const auto view = parse(folded);
        BOOST_TEST((*cols)[0].text(0).value_or("<absent>") == str(view, "status"));
        BOOST_TEST((*cols)[0].text(1).value_or("<absent>") ==
                   str(view, kind_s == "job" ? "type" : "name"));
      }
    }
  }
}

BOOST_DATA_TEST_CASE(rebuilt_tables_equal_the_live_ones,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  const auto certs = s.env.dump("certificates", 16);
  const auto versions = s.env.dump("certificate_versions", 14);
  const auto jobs = s.env.dump("jobs", 11);
  const auto resources = s.env.dump("resources", 9);
  BOOST_TEST(versions.size() == 3u);
  BOOST_TEST(resources.size() == 7u);  // the deleted issuer stays, flagged
  BOOST_REQUIRE(s.p.rebuild().ok());
  BOOST_REQUIRE(*s.p.catch_up() == s.last);
  BOOST_TEST((s.env.dump("certificates", 16) == certs));
  BOOST_TEST((s.env.dump("certificate_versions", 14) == versions));
  BOOST_TEST((s.env.dump("jobs", 11) == jobs));
  BOOST_TEST((s.env.dump("resources", 9) == resources));
}

BOOST_AUTO_TEST_SUITE_END()
