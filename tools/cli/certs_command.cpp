#include "tools/cli/certs_command.hpp"

#include <fstream>
#include <iostream>

#include "events/json.hpp"
#include "tools/cli/command_support.hpp"

namespace certctl::client {
namespace {

const std::string collection = "/api/v1/certificates";

std::string item_path(const std::string& id) {
  return collection + "/" + url_encode(id);
}

const std::vector<column> cert_columns = {{"ID", "id"},
                                          {"NAME", "name"},
                                          {"COMMON NAME", "common_name"},
                                          {"STATUS", "status"},
                                          {"EXPIRES", "expires_at"}};

int list(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl certs list [--status S] [--issuer ID] [--page N] [--per-page N]",
      "List managed certificates, one page at a time.",
      {},
      {{"status", "S", "only this status (Pending, Active, Expiring, Expired, Revoked, ...)"},
       {"issuer", "ID", "only certificates of this issuer"},
       page_option,
       per_page_option}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  query_params query;
  if (auto s = inv->flags.get("status")) query.emplace_back("status", *s);
  if (auto s = inv->flags.get("issuer")) query.emplace_back("issuer_id", *s);
  add_paging(inv->flags, query);
  return run_list(*inv, collection, query, cert_columns);
}

int get(const std::vector<std::string>& args) {
  const command_spec spec{"certctl certs get ID", "Show one certificate.", {"ID"}, {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  return run_get(*inv, item_path(inv->positionals[0]));
}

int create(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl certs create --name N --cn CN [--san S]... --issuer ID --policy ID --owner ID "
      "--team ID",
      "Register a certificate to manage; the server starts its issuance.",
      {},
      {{"name", "N", "display name", true},
       {"cn", "CN", "subject common name", true},
       {"san", "S", "subject alternative name", false, true},
       {"issuer", "ID", "issuer that signs it", true},
       {"policy", "ID", "renewal policy", true},
       {"owner", "ID", "owner", true},
       {"team", "ID", "team", true},
       {"profile", "ID", "certificate profile (optional)"},
       {"environment", "E", "environment label, e.g. production (optional)"}}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  const auto& f = inv->flags;
  events::json_object body;
  body.set("name", *f.get("name"))
      .set("common_name", *f.get("cn"))
      .set("sans", f.all("san"))
      .set("issuer_id", *f.get("issuer"))
      .set("renewal_policy_id", *f.get("policy"))
      .set("owner_id", *f.get("owner"))
      .set("team_id", *f.get("team"));
  if (auto p = f.get("profile")) body.set("certificate_profile_id", *p);
  if (auto e = f.get("environment")) body.set("environment", *e);
  return run_post(*inv, collection, body.dump());
}

int renew(const std::vector<std::string>& args) {
  const command_spec spec{"certctl certs renew ID",
                          "Start a renewal now; the server answers once the job is queued.",
                          {"ID"},
                          {}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  return run_post(*inv, item_path(inv->positionals[0]) + "/renew", "{}");
}

int revoke(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl certs revoke ID [--reason R]",
      "Revoke a certificate. Reasons (RFC 5280): unspecified, keyCompromise, caCompromise,\n"
      "affiliationChanged, superseded, cessationOfOperation, certificateHold,\n"
      "privilegeWithdrawn.",
      {"ID"},
      {{"reason", "R", "revocation reason (server default: unspecified)"}}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  events::json_object body;
  if (auto r = inv->flags.get("reason")) body.set("reason", *r);
  return run_post(*inv, item_path(inv->positionals[0]) + "/revoke", body.dump());
}

int export_pem(const std::vector<std::string>& args) {
  const command_spec spec{
      "certctl certs export ID [--out FILE]",
      "Fetch the certificate and its chain as PEM. Table format prints the full chain (or\n"
      "writes it to FILE); json format prints the server's {cert_pem, chain_pem, full_pem}.",
      {"ID"},
      {{"out", "FILE", "write the PEM chain to FILE instead of stdout"}}};
  int exit_code = 0;
  auto inv = parse_command(spec, args, exit_code);
  if (!inv) return exit_code;
  auto client = connect(*inv, exit_code);
  if (!client) return exit_code;
  auto r = expect_ok(client->get(item_path(inv->positionals[0]) + "/export/pem"), exit_code);
  if (!r) return exit_code;
  const auto out_file = inv->flags.get("out");
  if (inv->format == output_format::json && !out_file) {
    print_raw(r->body, std::cout);
    return 0;
  }
  auto pem = events::json_object::parse(r->body);
  std::string chain = pem ? pem->str("full_pem") : "";
  if (chain.empty() && pem) chain = pem->str("cert_pem") + pem->str("chain_pem");
  if (chain.empty()) {
    std::cerr << "error: the server's export of " << inv->positionals[0]
              << " holds no PEM (not issued yet?)\n";
    return exit_api_error;
  }
  if (!out_file) {
    std::cout << chain;
    return 0;
  }
  std::ofstream out(*out_file, std::ios::binary | std::ios::trunc);
  out << chain;
  if (!out.flush()) {
    std::cerr << "error: cannot write " << *out_file << "\n";
    return exit_api_error;
  }
  std::cout << "wrote " << *out_file << "\n";
  return 0;
}

}  // namespace

int run_certs(const std::vector<std::string>& args) {
  return dispatch_group("certs", "Managed certificates.", args,
                        {{"list", "list certificates (filter by status, issuer; paginated)", list},
                         {"get", "show one certificate", get},
                         {"create", "register a certificate and start its issuance", create},
                         {"renew", "renew a certificate now", renew},
                         {"revoke", "revoke a certificate", revoke},
                         {"export", "write a certificate's PEM chain", export_pem}});
}

}  // namespace certctl::client
