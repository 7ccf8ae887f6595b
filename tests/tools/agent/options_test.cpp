// certctl-agent's options: flags win over the environment, durations parse, and every
// refusal names the flag or variable at fault.
#define BOOST_TEST_MODULE tools_agent
#include <boost/test/unit_test.hpp>

#include "tools/agent/options.hpp"

using namespace certctl::agent;

namespace {

env_lookup env_of(std::map<std::string, std::string> m) {
  return [m](const std::string& k) -> std::optional<std::string> {
    auto it = m.find(k);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
}

const std::map<std::string, std::string> minimal = {{"CERTCTL_SERVER_URL", "https://cc:8443"},
                                                    {"CERTCTL_API_KEY", "k"},
                                                    {"CERTCTL_AGENT_ID", "agent-1"}};

}  // namespace

BOOST_AUTO_TEST_SUITE(agent_options)

BOOST_AUTO_TEST_CASE(the_environment_configures_the_agent_and_flags_override_it) {
  auto env = minimal;
  env["CERTCTL_DISCOVERY_DIRS"] = "/etc/ssl, /srv/tls ,";
  env["CERTCTL_POLL_INTERVAL"] = "5s";
  auto p = parse_options({"--agent-id=agent-2", "--heartbeat-interval", "250ms"}, env_of(env));
  BOOST_REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.error()));
  const auto& o = p->options;
  BOOST_TEST(o.server_url == "https://cc:8443");
  BOOST_TEST(o.agent_id == "agent-2");
  BOOST_TEST(o.name == "agent-2");
  BOOST_TEST((o.discovery_dirs == std::vector<std::string>{"/etc/ssl", "/srv/tls"}));
  BOOST_TEST(o.poll_interval.count() == 5000);
  BOOST_TEST(o.heartbeat_interval.count() == 250);
  BOOST_TEST(o.discovery_interval.count() == 6LL * 3600 * 1000);
  BOOST_TEST(o.key_dir == "/var/lib/certctl-agent/keys");
}

BOOST_AUTO_TEST_CASE(plain_http_missing_settings_and_bad_values_are_refused_by_name) {
  auto refuse = [](std::vector<std::string> args, std::map<std::string, std::string> env,
                   const std::string& names) {
    auto p = parse_options(args, env_of(env));
    BOOST_REQUIRE(!p.ok());
    BOOST_TEST(p.error().find(names) != std::string::npos, p.error());
  };
  refuse({"--server", "http://cc:8080"}, minimal, "https://");
  refuse({}, {{"CERTCTL_API_KEY", "k"}, {"CERTCTL_AGENT_ID", "a"}}, "CERTCTL_SERVER_URL");
  refuse({}, {{"CERTCTL_SERVER_URL", "https://x"}, {"CERTCTL_AGENT_ID", "a"}}, "--api-key");
  refuse({}, {{"CERTCTL_SERVER_URL", "https://x"}, {"CERTCTL_API_KEY", "k"}}, "--agent-id");
  refuse({"--agent-id", "../etc"}, minimal, "--agent-id");
  refuse({"--poll-interval", "soon"}, minimal, "--poll-interval");
  refuse({"--poll-interval", "0s"}, minimal, "--poll-interval");
  refuse({"--bogus"}, minimal, "--bogus");
  refuse({"--key-dir"}, minimal, "needs a value");
  BOOST_TEST(parse_options({"--help"}, env_of({}))->help);
}

BOOST_AUTO_TEST_CASE(durations_take_ms_s_m_h_and_bare_seconds) {
  BOOST_TEST(parse_duration("500ms")->count() == 500);
  BOOST_TEST(parse_duration("30")->count() == 30000);
  BOOST_TEST(parse_duration("5m")->count() == 300000);
  BOOST_TEST(parse_duration("6h")->count() == 21600000);
  BOOST_TEST(!parse_duration("").has_value());
  BOOST_TEST(!parse_duration("-1s").has_value());
  BOOST_TEST(!parse_duration("3d").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
