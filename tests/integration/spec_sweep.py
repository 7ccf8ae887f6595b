#!/usr/bin/env python3
"""Walks every operation of the reference OpenAPI spec against a running certctl-server.

Usage: spec_sweep.py SPEC.yaml FIXTURE.json GAPS.txt

FIXTURE (written by tests/integration/spec_sweep_test.cpp after it seeded realistic data):
  {"base_url": "https://127.0.0.1:PORT", "admin_key": "...", "ids": {"certificate": ..., ...},
   "doomed": {"team": ..., ...}}
`ids` name live entities the read operations and non-destructive writes use; `doomed` name
entities of their own that DELETE and other destructive operations may consume.

For every operation the sweep sends one request (path parameters from the fixture, a curated
body for the writes that need meaningful input, otherwise a body built from the request
schema's required fields) and classifies the answer:

  missing      the route does not exist (404 "not found" from the router, 405, or 501)
  unlisted     a status the operation does not list (401/403 never happen: the admin key)
  invalid      a JSON body that does not validate against the documented schema
  ok           a listed status with a valid body; `success` counts the 2xx among them

GAPS.txt lists operations known to be missing ("METHOD /path  # why"), one per line, and
statuses answered on purpose that an operation does not list ("DEVIATION METHOD /path STATUS
# why", e.g. RFC 7030's 401 for EST without credentials). An operation whose path names an
entity the fixture could not create (id "none") may answer 404; it is counted as unseeded. The sweep
fails on a missing operation that is not listed, on a listed gap that now answers (so the list
only shrinks), and on any unlisted status or invalid body. It prints the figures either way.
Exit codes as spec_check.py: 0 pass, 1 fail, 77 prerequisites missing (1 under CI=true).
"""

import json
import os
import re
import ssl
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spec_check  # noqa: E402  (the schema validator and the skip rules)

METHODS = ("get", "post", "put", "patch", "delete")

# Collection prefix -> fixture key of its {id}.
ID_OF = {
    "/api/v1/certificates": "certificate", "/api/v1/issuers": "issuer",
    "/api/v1/profiles": "profile", "/api/v1/renewal-policies": "renewal_policy",
    "/api/v1/teams": "team", "/api/v1/owners": "owner", "/api/v1/agents": "agent",
    "/api/v1/jobs": "job", "/api/v1/policies": "policy", "/api/v1/agent-groups": "agent_group",
    "/api/v1/approvals": "approval", "/api/v1/audit": "audit_event",
    "/api/v1/intermediates": "intermediate", "/api/v1/targets": "target",
    "/api/v1/notifications": "notification", "/api/v1/health-checks": "health_check",
    "/api/v1/network-scan-targets": "network_scan_target",
    "/api/v1/discovered-certificates": "discovered_certificate",
}

# Operations that destroy, retire or replace what they name: they get the `doomed` entities and
# run last, deletions after everything else (a revocation needs its certificate not yet
# archived). Renewals are here too: a renewal in flight would change what a read or an export
# of the live certificate answers.
DESTRUCTIVE = re.compile(
    r"^(DELETE |POST .*/(revoke|retire|reject|dismiss|cancel|renew|bulk-renew|bulk-reassign)$)")

# Path parameters some operations need from a particular fixture entry (the `doomed` pool for
# destructive ones): jobs in the right state, the CA that has a hierarchy.
OVERRIDES = {
    "POST /api/v1/jobs/{id}/cancel": "cancel_job",
    "POST /api/v1/jobs/{id}/reject": "reject_job",
    "GET /api/v1/issuers/{id}/intermediates": "local_issuer",
    "POST /api/v1/issuers/{id}/intermediates": "local_issuer",
}


def curated_bodies(ids):
    """Meaningful bodies for the writes whose schema-minimal body would only earn a 400."""
    rp = ids.get("renewal_policy", "")
    return {
        "POST /api/v1/certificates": {
            "name": "sweep", "common_name": "sweep.example.com", "sans": ["sweep.example.com"],
            "renewal_policy_id": rp, "issuer_id": ids.get("issuer", ""),
            "owner_id": ids.get("owner", ""), "team_id": ids.get("team", ""),
            "environment": "production"},
        "PUT /api/v1/certificates/{id}": {"environment": "staging"},
        "POST /api/v1/jobs/{id}/verify": {"target_id": "t-sweep", "expected_fingerprint": "ab" * 32,
                                          "actual_fingerprint": "ab" * 32, "verified": True},
        "POST /api/v1/certificates/{id}/export/pkcs12": {"password": "sweep-export-password"},
        "POST /api/v1/certificates/{id}/revoke": {"reason": "superseded"},
        "POST /api/v1/issuers": {"name": "sweep CA", "type": "GenericCA", "config": {}},
        "PUT /api/v1/issuers/{id}": {"name": "sweep CA renamed"},
        "POST /api/v1/profiles": {"name": "sweep profile"},
        "PUT /api/v1/profiles/{id}": {"description": "swept"},
        "POST /api/v1/renewal-policies": {"name": "sweep policy", "renewal_window_days": 30},
        "PUT /api/v1/renewal-policies/{id}": {"renewal_window_days": 20},
        "POST /api/v1/teams": {"name": "sweep team"},
        "PUT /api/v1/teams/{id}": {"description": "swept"},
        "POST /api/v1/owners": {"name": "sweep owner", "email": "sweep@example.com"},
        "PUT /api/v1/owners/{id}": {"email": "owner@example.com"},
        "POST /api/v1/agents": {"name": "sweep-agent", "os": "linux", "architecture": "amd64"},
        "POST /api/v1/agents/{id}/heartbeat": {"version": "1.0.0", "hostname": "sweep"},
        "POST /api/v1/policies": {"name": "sweep rule", "type": "AllowedEnvironments",
                                  "config": {"environments": ["production", "staging"]}},
        "PUT /api/v1/policies/{id}": {"severity": "Warning"},
        "POST /api/v1/agent-groups": {"name": "sweep group", "match_os": "linux"},
        "PUT /api/v1/agent-groups/{id}": {"description": "swept"},
        "POST /api/v1/health-checks": {"endpoint": "sweep.example.com:443",
                                       "check_interval_seconds": 300},
        "PUT /api/v1/health-checks/{id}": {"check_interval_seconds": 600},
        "POST /api/v1/network-scan-targets": {"name": "sweep scan", "cidrs": ["192.0.2.0/30"],
                                              "ports": [443]},
        "PUT /api/v1/network-scan-targets/{id}": {"name": "sweep scan", "cidrs": ["192.0.2.0/30"],
                                                  "ports": [443, 8443]},
        "POST /api/v1/health-checks/{id}/acknowledge": {"acknowledged_by": "sweep"},
        "POST /api/v1/certificates/bulk-renew": {"certificate_ids": [ids.get("bulk_certificate", "")]},
        "POST /api/v1/certificates/bulk-reassign": {"certificate_ids": [ids.get("bulk_certificate", "")],
                                                    "owner_id": ids.get("owner", "")},
        "POST /api/v1/certificates/bulk-revoke": {"certificate_ids": [ids.get("bulk_certificate", "")],
                                                  "reason": "superseded"},
    }


def schema_example(validator, schema, depth=0):
    """A value satisfying the schema's required structure (enums, types, formats)."""
    if depth > 6 or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return schema_example(validator, validator.resolve(schema["$ref"]), depth + 1)
    if "example" in schema:
        return schema["example"]
    if "allOf" in schema:
        out = {}
        for part in schema["allOf"]:
            v = schema_example(validator, part, depth + 1)
            if isinstance(v, dict):
                out.update(v)
        return out
    if "enum" in schema:
        return schema["enum"][0]
    t = schema.get("type", "object")
    if t == "object":
        props = schema.get("properties", {})
        return {k: schema_example(validator, props.get(k, {}), depth + 1)
                for k in schema.get("required", [])}
    if t == "array":
        return []
    if t == "integer" or t == "number":
        return schema.get("minimum", 1)
    if t == "boolean":
        return False
    if schema.get("format") == "date-time":
        return "2030-01-01T00:00:00Z"
    return "sweep"


def concrete_path(key, template, ids, destructive):
    pool = dict(ids)
    if destructive:
        pool.update(ids.get("doomed", {}))

    def value(match):
        name = match.group(1)
        if name == "id" and key in OVERRIDES:
            return pool.get(OVERRIDES[key], "none")
        prefix = template[:match.start()].rstrip("/")
        if name in ("issuer_id",):
            return pool.get("issuer", "iss-local")
        if name == "serial":
            return pool.get("serial", "01")
        if name == "job_id":
            return pool.get("agent_job", pool.get("job", "job-none"))
        if name == "cert_id":
            return pool.get("certificate", "mc-none")
        base = re.sub(r"/\{[^}]+\}.*$", "", prefix) if "{" in prefix else prefix
        return pool.get(ID_OF.get(base, ""), "none")

    return re.sub(r"\{([^}]+)\}", value, template)


class Client:
    def __init__(self, base_url, key):
        self.base, self.key = base_url.rstrip("/"), key
        self.ctx = ssl.create_default_context()
        self.ctx.check_hostname = False
        self.ctx.verify_mode = ssl.CERT_NONE  # loopback test server, its own throwaway CA

    def send(self, method, path, body):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + self.key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get("Content-Type", ""), e.read()


def router_not_found(text):
    """The router's own 404 (no such route), not an entity's."""
    try:
        return json.loads(text).get("error") == "not found"
    except (ValueError, AttributeError):
        return False


def load_gaps(path):
    """(gaps, deviations): missing operations, and statuses answered on purpose that the
    operation does not list ("DEVIATION METHOD /path STATUS  # why")."""
    gaps, deviations = {}, {}
    if os.path.exists(path):
        for line in open(path):
            line = line.split("#", 1)
            entry = line[0].strip()
            if entry.startswith("DEVIATION "):
                _, method, template, status = entry.split()
                deviations.setdefault(f"{method} {template}", set()).add(int(status))
            elif entry:
                gaps[entry] = line[1].strip() if len(line) > 1 else ""
    return gaps, deviations


def main(argv):
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2])
        return 2
    spec_path, fixture_path, gaps_path = argv[1:]
    if not os.path.exists(spec_path):
        return spec_check.skip_or_fail(f"{spec_path} not found")
    spec = spec_check.yaml.safe_load(open(spec_path))
    fixture = json.load(open(fixture_path))
    validator = spec_check.Validator(spec)
    client = Client(fixture["base_url"], fixture["admin_key"])
    ids = fixture["ids"]
    ids["doomed"] = fixture.get("doomed", {})
    bodies = curated_bodies(ids)
    gaps, deviations = load_gaps(gaps_path)

    operations = []
    for template, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                operations.append((method.upper(), template, item[method]))
    # Non-destructive first, so the live entities exist for every read and update.
    operations.sort(key=lambda o: (bool(DESTRUCTIVE.match(f"{o[0]} {o[1]}")), o[0] == "DELETE"))

    figures = {"missing": [], "unlisted": [], "invalid": [], "ok": 0, "success": 0,
               "unseeded": [], "deviations": []}
    answered_gaps = []
    for method, template, op in operations:
        key = f"{method} {template}"
        destructive = bool(DESTRUCTIVE.match(key))
        path = concrete_path(key, template, ids, destructive)
        body = None
        if "requestBody" in op:
            content = op["requestBody"].get("content", {})
            if "application/json" in content:
                body = bodies.get(key)
                if body is None:
                    body = schema_example(validator, content["application/json"].get("schema", {}))
        status, ctype, raw = client.send(method, path, body)
        text = raw.decode("utf-8", "replace")
        route_missing = status in (405, 501) or (status == 404 and router_not_found(text))
        if route_missing:
            if key not in gaps:
                figures["missing"].append(f"{key} -> {status}")
            continue
        if key in gaps:
            answered_gaps.append(f"{key} -> {status} (listed as a gap: {gaps[key]})")
        listed = op.get("responses", {})
        if str(status) not in listed and "default" not in listed:
            if status in deviations.get(key, ()):
                figures["deviations"].append(f"{key} -> {status}")
            elif status == 404 and "/none" in path:
                # The fixture has no entity of this kind to name: not found is the answer.
                figures["unseeded"].append(key)
            else:
                figures["unlisted"].append(f"{key} ({path}) -> {status}: {text[:200]}")
            continue
        if "json" in ctype:
            try:
                doc = json.loads(text)
            except ValueError:
                figures["invalid"].append(f"{key} -> {status}: body is not JSON")
                continue
            schema = spec_check.response_schema(validator, op, status)
            if schema is None and status >= 400:
                schema = {"$ref": "#/components/schemas/ErrorResponse"}
            errors = validator.errors(schema, doc) if schema is not None else []
            if errors:
                figures["invalid"].append(f"{key} -> {status}: {errors[0]}")
                continue
        figures["ok"] += 1
        if 200 <= status < 300:
            figures["success"] += 1

    for kind in ("missing", "unlisted", "invalid"):
        for line in figures[kind]:
            print(f"{kind.upper()}: {line}")
    for line in answered_gaps:
        print(f"GAP ANSWERS: {line}")
    for line in figures["deviations"]:
        print(f"deviation (documented): {line}")
    for line in figures["unseeded"]:
        print(f"unseeded (404 for an id the fixture could not create): {line}")
    total = len(operations)
    print(f"spec_sweep: {total} operations; {figures['ok']} answered as listed "
          f"({figures['success']} with success), {len(figures['missing'])} missing, "
          f"{len(gaps)} known gaps, {len(figures['unlisted'])} unlisted statuses, "
          f"{len(figures['invalid'])} invalid bodies, {len(figures['deviations'])} documented "
          f"deviations, {len(figures['unseeded'])} unseeded")
    failed = figures["missing"] or figures["unlisted"] or figures["invalid"] or answered_gaps
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
