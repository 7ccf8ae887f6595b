// The AWS credential chain (the SDKs' order: configured keys, environment, shared files,
// instance metadata) and SigV4 signing of JSON 1.1 requests.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "connectors/common/cloud_auth.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/crypto/sigv4.hpp"

namespace certctl::connectors::cloud_auth {
namespace {

auth_error fail(auth_errc code, std::string message) {
  return auth_error{code, std::move(message)};
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

using ini = std::map<std::string, std::map<std::string, std::string>>;

/// An AWS shared config/credentials file: "[section]" headers, "key = value" lines, '#'/';'
/// comments. nullopt when the file does not exist.
std::optional<ini> read_ini(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  ini out;
  std::string line, section;
  while (std::getline(f, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos || section.empty()) continue;
    out[section][trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

std::optional<aws_credentials> keys_of(const std::map<std::string, std::string>& s,
                                       const std::string& source) {
  auto get = [&](const char* k) {
    auto it = s.find(k);
    return it == s.end() ? std::string() : it->second;
  };
  aws_credentials c;
  c.access_key_id = get("aws_access_key_id");
  c.secret_access_key = get("aws_secret_access_key");
  c.session_token = get("aws_session_token");
  c.source = source;
  if (c.access_key_id.empty() || c.secret_access_key.empty()) return std::nullopt;
  return c;
}

}  // namespace

aws_credential_chain::aws_credential_chain(aws_chain_options options) : o_(std::move(options)) {
  if (!o_.getenv)
    o_.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  if (!o_.now) o_.now = system_seconds;
}

std::optional<std::string> aws_credential_chain::env(const std::string& name) const {
  auto v = o_.getenv(name);
  if (v && v->empty()) return std::nullopt;
  return v;
}

certctl::result<aws_credentials, auth_error> aws_credential_chain::credentials() {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int64_t now = o_.now();
  if (cached_ &&
      (cached_->expires_at == 0 || now + o_.refresh_margin.count() < cached_->expires_at))
    return *cached_;
  auto c = resolve();
  if (!c) return c.error();
  cached_ = *c;
  ++resolutions_;
  return *c;
}

void aws_credential_chain::forget() {
  std::lock_guard<std::mutex> lock(mutex_);
  cached_.reset();
}

int aws_credential_chain::resolutions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return resolutions_;
}

certctl::result<aws_credentials, auth_error> aws_credential_chain::resolve() const {
  if (!o_.configured.access_key_id.empty()) {
    if (o_.configured.secret_access_key.empty())
      return fail(auth_errc::invalid_config, "access_key_id is set without secret_access_key");
    aws_credentials c = o_.configured;
    c.source = "config";
    return c;
  }
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  if (id && secret) {
    aws_credentials c;
    c.access_key_id = *id;
    c.secret_access_key = *secret;
    c.session_token = env("AWS_SESSION_TOKEN").value_or("");
    c.source = "environment";
    return c;
  }
  auto files = from_files();
  if (!files) return files.error();
  if (*files) return **files;
  const auto disabled = env("AWS_EC2_METADATA_DISABLED");
  if (o_.use_instance_metadata && !(disabled && *disabled == "true"))
    return from_instance_metadata();
  return fail(auth_errc::invalid_config,
              "no AWS credentials: none configured, none in AWS_ACCESS_KEY_ID / "
              "AWS_SECRET_ACCESS_KEY, none in the shared files, instance metadata off");
}

certctl::result<std::optional<aws_credentials>, auth_error> aws_credential_chain::from_files()
    const {
  const std::string home = env("HOME").value_or("");
  const std::string profile =
      !o_.profile.empty() ? o_.profile : env("AWS_PROFILE").value_or("default");
  const std::string creds_path =
      !o_.credentials_file.empty() ? o_.credentials_file
                                   : env("AWS_SHARED_CREDENTIALS_FILE")
                                         .value_or(home.empty() ? "" : home + "/.aws/credentials");
  const std::string config_path =
      !o_.config_file.empty()
          ? o_.config_file
          : env("AWS_CONFIG_FILE").value_or(home.empty() ? "" : home + "/.aws/config");
  const std::string source = "profile " + profile;
  // The credentials file names sections by profile; the config file as "profile <name>"
  // (except "default"). Keys in the credentials file win.
  if (!creds_path.empty())
    if (auto f = read_ini(creds_path))
      if (auto it = f->find(profile); it != f->end())
        if (auto c = keys_of(it->second, source)) return std::optional<aws_credentials>(*c);
  if (!config_path.empty())
    if (auto f = read_ini(config_path)) {
      auto it = f->find(profile == "default" ? "default" : "profile " + profile);
      if (it != f->end())
        if (auto c = keys_of(it->second, source)) return std::optional<aws_credentials>(*c);
    }
  // A profile that was asked for by name but exists nowhere is a configuration error, not a
  // reason to fall through to another identity.
  if (!o_.profile.empty())
    return fail(auth_errc::invalid_config,
                "AWS profile '" + o_.profile + "' has no keys in the shared files");
  return std::optional<aws_credentials>{};
}

certctl::result<aws_credentials, auth_error> aws_credential_chain::from_instance_metadata() const {
  const std::string who = "instance metadata (IMDSv2)";
  auto e = parse_endpoint(o_.instance_metadata_url, "instance metadata URL", true);
  if (!e) return e.error();
  transport_options t = o_.transport;
  auto rejected = [&](const std::string& step, const http_answer& a) {
    return fail(a.status >= 500 ? auth_errc::unavailable : auth_errc::rejected,
                who + ": " + step + " answered " + std::to_string(a.status));
  };
  // IMDSv2: a session token first (PUT), then every read carries it.
  auto token = call(*e, t, who, "PUT", "/latest/api/token",
                    {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}});
  if (!token) return token.error();
  if (token->status != 200 || token->body.empty()) return rejected("token PUT", *token);
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"X-aws-ec2-metadata-token", trim(token->body)}};
  const std::string base = "/latest/meta-data/iam/security-credentials/";
  auto roles = call(*e, t, who, "GET", base, auth);
  if (!roles) return roles.error();
  if (roles->status != 200) return rejected("role list", *roles);
  std::istringstream lines(roles->body);
  std::string role;
  std::getline(lines, role);
  role = trim(role);
  if (role.empty() || role.find('/') != std::string::npos)
    return fail(auth_errc::rejected, who + ": the instance has no IAM role");
  auto creds = call(*e, t, who, "GET", base + role, auth);
  if (!creds) return creds.error();
  if (creds->status != 200) return rejected("credentials", *creds);
  auto doc = events::json_object::parse(creds->body);
  if (!doc || doc->str("Code", "Success") != "Success")
    return fail(auth_errc::rejected, who + ": credentials answer is not Success");
  aws_credentials c;
  c.access_key_id = doc->str("AccessKeyId");
  c.secret_access_key = doc->str("SecretAccessKey");
  c.session_token = doc->str("Token");
  c.source = "instance metadata";
  if (auto exp = events::parse_rfc3339(doc->str("Expiration"))) c.expires_at = *exp / 1000000;
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return fail(auth_errc::rejected, who + ": credentials answer without keys");
  return c;
}

std::vector<std::pair<std::string, std::string>> sign_json11(
    const endpoint& e, const std::string& path, const std::string& target, const std::string& body,
    const std::string& region, const std::string& service, const aws_credentials& credentials,
    std::int64_t unix_seconds) {
  const std::string amz_date = crypto::sigv4_amz_date(unix_seconds);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-amz-json-1.1"},
      {"X-Amz-Date", amz_date},
      {"X-Amz-Target", target}};
  if (!credentials.session_token.empty())
    headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  crypto::sigv4_request req;
  req.method = "POST";
  req.path = e.base_path + (path.empty() ? "/" : path);
  req.headers = headers;
  req.headers.emplace_back("Host", host_header(e));
  req.body = body;
  const auto sig = crypto::sigv4_sign(req, {amz_date, region, service},
                                      {credentials.access_key_id, credentials.secret_access_key});
  headers.emplace_back("Authorization", sig.authorization);
  return headers;
}

}  // namespace certctl::connectors::cloud_auth
