#!/usr/bin/env python3
"""Fails when a source file includes a project header from a layer it must not depend on.

The layers and their directions are those of DESIGN.md section 2 and docs/architecture.md:

    events <- domain <- actors, projections <- gateways <- tools
    actors -> connectors -> infra;   everything may use infra and events

A rule names, for a folder, the folders its files may include from. The most specific rule
(longest folder prefix) applies, so gateways/http (the HTTP framework every gateway shares)
is held to less than the rest of gateways/. tests/ may include anything.

Run by the build (target `layering_check`, part of ALL) and by CTest (`layering_check`).
Usage: check-layering.py [SOURCE_ROOT]
"""
import os
import re
import sys

ALLOWED = {
    "events": {"events"},
    "domain": {"events", "domain"},
    "infra": {"events", "infra"},
    "connectors": {"events", "infra", "connectors"},
    "projections": {"events", "domain", "infra", "projections"},
    "actors": {"events", "domain", "infra", "connectors", "actors"},
    "gateways": {"events", "domain", "infra", "connectors", "actors", "projections", "gateways"},
    # The framework knows HTTP, not the entity runtime or the read models.
    "gateways/http": {"events", "infra", "gateways/http"},
    "tools": {"events", "domain", "infra", "connectors", "actors", "projections", "gateways",
              "tools"},
}

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
SOURCE_SUFFIXES = (".hpp", ".cpp", ".h")


def rule_for(path):
    """The allowed set of the most specific folder rule that covers `path`."""
    best = None
    for folder in ALLOWED:
        if path == folder or path.startswith(folder + "/"):
            if best is None or len(folder) > len(best):
                best = folder
    return best


def allowed(target, permitted):
    return any(target == p or target.startswith(p + "/") for p in permitted)


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), "..", ".."))
    violations = []
    for top in ALLOWED:
        if "/" in top:
            continue
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in files:
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                folder = rule_for(rel)
                permitted = ALLOWED[folder]
                with open(full, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        # Only project headers name a top-level folder; others are system ones.
                        if target.split("/")[0] not in ALLOWED and target.split("/")[0] != "tests":
                            continue
                        if not allowed(target, permitted):
                            violations.append(f"{rel}:{number}: {folder}/ must not include "
                                              f"\"{target}\"")
    if violations:
        print("layering check failed (DESIGN.md section 2, docs/architecture.md):")
        print("\n".join(violations))
        return 1
    print("layering check: no include runs against the layer directions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
