// SCEP profiles from the environment (infra/scep_config): the multi-profile and legacy shapes,
// defaults, and every start-time refusal naming its variable.
#define BOOST_TEST_MODULE infra_scep_config
#include <boost/test/unit_test.hpp>

#include <map>

#include "infra/scep_config.hpp"

using namespace certctl::infra;

namespace {

auto load(const std::map<std::string, std::string>& env) {
  return load_scep_config([&env](const char* name) -> const char* {
    const auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& env) {
  auto r = load(env);
  BOOST_REQUIRE(!r.ok());
  return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_CASE(nothing_configured_means_no_scep) {
  auto r = load({});
  BOOST_REQUIRE(r.ok());
  BOOST_TEST(r->empty());
  auto off = load({{"CERTCTL_SCEP_ENABLED", "false"}, {"CERTCTL_SCEP_ISSUER_ID", "iss-local"}});
  BOOST_REQUIRE(off.ok());
  BOOST_TEST(off->empty());
}

BOOST_AUTO_TEST_CASE(legacy_profile_is_served_at_the_root_path) {
  auto r = load({{"CERTCTL_SCEP_ENABLED", "true"},
                 {"CERTCTL_SCEP_ISSUER_ID", "iss-local"},
                 {"CERTCTL_SCEP_CHALLENGE_PASSWORD", "pw"}});
  BOOST_REQUIRE(r.ok());
  BOOST_REQUIRE_EQUAL(r->size(), 1u);
  BOOST_TEST((*r)[0].path_id == "");
  BOOST_TEST((*r)[0].challenge_password == "pw");
  BOOST_TEST((*r)[0].intune_challenge_validity_s == 3600);
  BOOST_TEST((*r)[0].intune_clock_skew_s == 60);
  BOOST_TEST((*r)[0].intune_rate_limit_24h == 3);
}

BOOST_AUTO_TEST_CASE(named_profiles_read_their_own_variables) {
  auto r = load({{"CERTCTL_SCEP_PROFILES", "Corp, iot-2"},
                 {"CERTCTL_SCEP_PROFILE_CORP_ISSUER_ID", "iss-a"},
                 {"CERTCTL_SCEP_PROFILE_CORP_CHALLENGE_PASSWORD", "a"},
                 {"CERTCTL_SCEP_PROFILE_CORP_PROFILE_ID", "prof-laptops"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_ISSUER_ID", "iss-b"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_INTUNE_ENABLED", "true"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_INTUNE_CONNECTOR_CERT_PATH", "/x.pem"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_INTUNE_CHALLENGE_VALIDITY", "2h"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_INTUNE_CLOCK_SKEW_TOLERANCE", "90s"},
                 {"CERTCTL_SCEP_PROFILE_IOT_2_INTUNE_PER_DEVICE_RATE_LIMIT_24H", "0"}});
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_REQUIRE_EQUAL(r->size(), 2u);
  BOOST_TEST((*r)[0].path_id == "corp");
  BOOST_TEST((*r)[0].profile_id == "prof-laptops");
  BOOST_TEST((*r)[1].path_id == "iot-2");
  BOOST_TEST((*r)[1].issuer_id == "iss-b");
  BOOST_TEST((*r)[1].intune_enabled);
  BOOST_TEST((*r)[1].intune_challenge_validity_s == 7200);
  BOOST_TEST((*r)[1].intune_clock_skew_s == 90);
  BOOST_TEST((*r)[1].intune_rate_limit_24h == 0);
}

BOOST_AUTO_TEST_CASE(bad_settings_are_refused_naming_the_variable) {
  BOOST_TEST(
      error_of({{"CERTCTL_SCEP_PROFILES", "corp"}}).find("CERTCTL_SCEP_PROFILE_CORP_ISSUER_ID") !=
      std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_SCEP_PROFILES", "co/rp"}}).find("CERTCTL_SCEP_PROFILES") !=
             std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_SCEP_PROFILES", "a,A"},
                       {"CERTCTL_SCEP_PROFILE_A_ISSUER_ID", "i"},
                       {"CERTCTL_SCEP_PROFILE_A_CHALLENGE_PASSWORD", "p"}})
                 .find("twice") != std::string::npos);
  BOOST_TEST(error_of({{"CERTCTL_SCEP_ENABLED", "yes"}}).find("CERTCTL_SCEP_ENABLED") !=
             std::string::npos);
  const std::map<std::string, std::string> base = {{"CERTCTL_SCEP_PROFILES", "p"},
                                                   {"CERTCTL_SCEP_PROFILE_P_ISSUER_ID", "i"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(base.begin(), base.end());
    return error_of(extra);
  };
  // No challenge, no Intune, no mTLS: anyone could enroll.
  BOOST_TEST(with({}).find("CERTCTL_SCEP_PROFILE_P_CHALLENGE_PASSWORD") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_SCEP_PROFILE_P_CHALLENGE_PASSWORD", "x"},
                   {"CERTCTL_SCEP_PROFILE_P_RA_CERT_PATH", "/ra.pem"}})
                 .find("RA_KEY_PATH") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_SCEP_PROFILE_P_INTUNE_ENABLED", "true"}})
                 .find("INTUNE_CONNECTOR_CERT_PATH") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_SCEP_PROFILE_P_INTUNE_ENABLED", "true"},
                   {"CERTCTL_SCEP_PROFILE_P_INTUNE_CONNECTOR_CERT_PATH", "/c.pem"},
                   {"CERTCTL_SCEP_PROFILE_P_INTUNE_CHALLENGE_VALIDITY", "60s"},
                   {"CERTCTL_SCEP_PROFILE_P_INTUNE_CLOCK_SKEW_TOLERANCE", "60s"}})
                 .find("INTUNE_CLOCK_SKEW_TOLERANCE") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_SCEP_PROFILE_P_CHALLENGE_PASSWORD", "x"},
                   {"CERTCTL_SCEP_PROFILE_P_INTUNE_CHALLENGE_VALIDITY", "soon"}})
                 .find("INTUNE_CHALLENGE_VALIDITY") != std::string::npos);
  BOOST_TEST(with({{"CERTCTL_SCEP_PROFILE_P_CHALLENGE_PASSWORD", "x"},
                   {"CERTCTL_SCEP_PROFILE_P_MTLS_ENABLED", "true"}})
                 .find("MTLS_CLIENT_CA_TRUST_BUNDLE_PATH") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(durations_take_units) {
  BOOST_TEST(*parse_duration_seconds("90") == 90);
  BOOST_TEST(*parse_duration_seconds("90s") == 90);
  BOOST_TEST(*parse_duration_seconds("60m") == 3600);
  BOOST_TEST(*parse_duration_seconds("2h") == 7200);
  BOOST_TEST(*parse_duration_seconds("1d") == 86400);
  BOOST_TEST(!parse_duration_seconds(""));
  BOOST_TEST(!parse_duration_seconds("0s"));
  BOOST_TEST(!parse_duration_seconds("-5m"));
  BOOST_TEST(!parse_duration_seconds("m"));
  BOOST_TEST(!parse_duration_seconds("99999999999h"));
}
