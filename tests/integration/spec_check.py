#!/usr/bin/env python3
"""Validates the JSON responses the integration tests captured against the OpenAPI spec.

Usage: spec_check.py SPEC.yaml CAPTURE_DIR

Each capture file is {"method", "path", "status", "body"} (written by tests/integration/api.cpp
when CERTCTL_IT_CAPTURE_DIR is set). The response is matched to the spec's operation by method
and path template, then its body is validated against the schema of the documented status.
Error statuses the operation does not document (401, 403, 413, ...) are validated against
components.schemas.ErrorResponse: the server answers every failure with that envelope.

The validator implements only the JSON-schema subset the spec uses for responses: type,
properties, required, enum, items, allOf, $ref, nullable, additionalProperties (schema form)
and format date-time. Unknown keywords are ignored, as a validator must.

Exit codes: 0 all captured responses conform, 1 some do not (or nothing was captured),
77 the spec or PyYAML is missing (CTest's skip code). Under CI=true a missing spec or PyYAML
is a failure (1), never a skip: CI must not pass without the check having run. The spec is not
vendored (it is BSL 1.1, whose copies must carry the licence text with its parameters, which this
repository does not have); CI machines provide it beside the repository (../shared/reference)
or point CMake's CERTCTL_OPENAPI_SPEC at it.
"""

import datetime
import glob
import json
import os
import re
import sys

# Enum values the server returns beyond the v2.0.0 spec, each a documented extension: value ->
# a value the extended enum must already hold (so the allowance applies to that enum only).
#   HealthCheckAlert: NotificationType of endpoint health alerts (docs/health-checks.md).
ENUM_EXTENSIONS = {"HealthCheckAlert": "ExpirationWarning"}


def enum_extension(schema, value):
    return isinstance(value, str) and ENUM_EXTENSIONS.get(value) in schema["enum"]


SKIP = 77


def skip_or_fail(reason):
    """77 on a developer machine; under CI=true a missing prerequisite fails the run."""
    if os.environ.get("CI") == "true":
        print(f"spec_check: FAIL: {reason} (required under CI=true)")
        return 1
    print(f"spec_check: {reason}; skipping")
    return SKIP


try:
    import yaml
except ImportError:
    sys.exit(skip_or_fail("PyYAML is not installed (Debian: python3-yaml)"))

# RFC 3339 date-time, as OpenAPI's format means it: offset or Z mandatory.
DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    # bool is an int in Python; JSON keeps them apart.
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


class Validator:
    def __init__(self, spec):
        self.spec = spec

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("only local $refs are supported: " + ref)
        node = self.spec
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, schema, value, where="$"):
        """Every violation of `schema` by `value`, as 'json.path: message' strings."""
        if "$ref" in schema:
            return self.errors(self.resolve(schema["$ref"]), value, where)
        out = []
        for part in schema.get("allOf", []):
            out += self.errors(part, value, where)
        if value is None:
            if schema.get("nullable") or "type" not in schema:
                return out
            return out + [f"{where}: null but not nullable"]
        t = schema.get("type")
        if t is not None and not JSON_TYPES[t](value):
            return out + [f"{where}: expected {t}, got {type(value).__name__} {json.dumps(value)[:60]}"]
        if "enum" in schema and value not in schema["enum"] and not enum_extension(schema, value):
            out.append(f"{where}: {json.dumps(value)} is not one of {schema['enum']}")
        if schema.get("format") == "date-time" and isinstance(value, str):
            out += self.date_time_errors(value, where)
        if isinstance(value, dict):
            out += self.object_errors(schema, value, where)
        if isinstance(value, list) and "items" in schema:
            for i, item in enumerate(value):
                out += self.errors(schema["items"], item, f"{where}[{i}]")
        return out

    def object_errors(self, schema, value, where):
        out = []
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                out.append(f"{where}: required property '{name}' is missing")
        extra = schema.get("additionalProperties")
        for name, v in value.items():
            if name in props:
                out += self.errors(props[name], v, f"{where}.{name}")
            elif isinstance(extra, dict):
                out += self.errors(extra, v, f"{where}.{name}")
        return out

    @staticmethod
    def date_time_errors(value, where):
        if not DATE_TIME.match(value):
            return [f"{where}: '{value}' is not an RFC 3339 date-time"]
        try:
            # Calendar check (Feb 30 and friends); fromisoformat wants at most 6 fraction digits.
            trimmed = re.sub(r"(\.\d{6})\d+", r"\1", value).replace("Z", "+00:00").replace("z", "+00:00")
            datetime.datetime.fromisoformat(trimmed.replace("t", "T"))
        except ValueError as e:
            return [f"{where}: '{value}' is not a valid date-time ({e})"]
        return []


def template_regex(template):
    parts = [("[^/]+" if re.fullmatch(r"\{[^}]+\}", p) else re.escape(p)) for p in template.split("/")]
    return re.compile("^" + "/".join(parts) + "$")


def match_operation(spec, method, path):
    """The (template, operation) for a concrete path; literal segments beat parameters."""
    best = None
    for template, item in spec["paths"].items():
        op = item.get(method.lower())
        if op is None or not template_regex(template).match(path):
            continue
        literal = sum(1 for p in template.split("/") if not p.startswith("{"))
        if best is None or literal > best[0]:
            best = (literal, template, op)
    return (best[1], best[2]) if best else (None, None)


def response_schema(validator, op, status):
    responses = op.get("responses", {})
    resp = responses.get(str(status)) or responses.get("default")
    if resp is None:
        return None
    if "$ref" in resp:
        resp = validator.resolve(resp["$ref"])
    return resp.get("content", {}).get("application/json", {}).get("schema")


def main(argv):
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[2])
        return 2
    spec_path, capture_dir = argv[1], argv[2]
    if not os.path.exists(spec_path):
        return skip_or_fail(f"{spec_path} not found (configure with -DCERTCTL_OPENAPI_SPEC=...)")
    with open(spec_path) as f:
        spec = yaml.safe_load(f)
    v = Validator(spec)
    error_schema = {"$ref": "#/components/schemas/ErrorResponse"}

    files = sorted(glob.glob(os.path.join(capture_dir, "*.json")))
    checked, failures, notes = 0, [], set()
    for name in files:
        with open(name) as f:
            cap = json.load(f)
        method, path, status = cap["method"], cap["path"], cap["status"]
        try:
            body = json.loads(cap["body"])
        except ValueError:
            failures.append(f"{method} {path} -> {status}: body is not JSON")
            continue
        template, op = match_operation(spec, method, path)
        if op is None:
            notes.add(f"not in the spec: {method} {path}")
            continue
        schema = response_schema(v, op, status)
        if schema is None:
            if status < 400:
                notes.add(f"undocumented status: {method} {template} -> {status}")
                continue
            schema = error_schema
        checked += 1
        for e in v.errors(schema, body):
            failures.append(f"{method} {template} -> {status} ({os.path.basename(name)}): {e}")

    for n in sorted(notes):
        print("note:", n)
    for fail in failures:
        print("FAIL:", fail)
    print(f"spec_check: {len(files)} captured, {checked} validated, {len(failures)} violations")
    if not files:
        print("spec_check: nothing captured; run the integration tests with CERTCTL_IT_CAPTURE_DIR")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
