"""Checks one generated corpus project against its spec (issue 4, design §3).

usage: corpus_check.py SPEC.json OUT_DIR

- the tool count equals the operations kept (counted here from the spec itself, not from
  mcp-gen's own numbers: every method of every path item, minus `x-mcp: false`);
- tool names are unique and match ^[a-z0-9_]{1,48}$;
- every input schema is a valid JSON Schema 2020-12 (checked against the meta-schema by the
  `jsonschema` package), has a root `{"type": "object"}`, no root oneOf/anyOf/allOf, and no
  `$ref` / `$dynamicRef` anywhere; every output schema is a valid 2020-12 schema too.
Prints `operations tools` on success; exits 1 with every problem found otherwise.
"""

import json
import re
import sys
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
NAME = re.compile(r"^[a-z0-9_]{1,48}$")


def resolve(root, value):
    """Follow local `$ref`s of path items (`#/components/pathItems/…`, `#/paths/…`)."""
    for _ in range(32):
        ref = value.get("$ref") if isinstance(value, dict) else None
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return value
        target = root
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part, {}) if isinstance(target, dict) else {}
        value = target
    return value


def operations_kept(spec):
    count = 0
    for path, item in (spec.get("paths") or {}).items():
        if path.startswith("x-"):
            continue
        item = resolve(spec, item)
        for method in METHODS:
            op = item.get(method) if isinstance(item, dict) else None
            if isinstance(op, dict) and op.get("x-mcp") is not False:
                count += 1
    return count


def find_refs(value, at, problems):
    stack = [(value, at)]
    while stack:
        v, here = stack.pop()
        if isinstance(v, dict):
            for key in ("$ref", "$dynamicRef", "$recursiveRef"):
                if key in v and not here.endswith(("/properties", "/patternProperties")):
                    problems.append(f"{here}: `{key}` left in the schema")
            stack.extend((child, f"{here}/{k}") for k, child in v.items())
        elif isinstance(v, list):
            stack.extend((child, f"{here}/{i}") for i, child in enumerate(v))


def main():
    spec_path, out = Path(sys.argv[1]), Path(sys.argv[2])
    spec = json.loads(spec_path.read_text())
    manifest = json.loads((out / "mcp-gen.json").read_text())
    tools = manifest["tools"]
    # The manifest keys tools by name; the table in src/tools.rs has one entry per tool, so
    # two tools with one name show up as a difference in count.
    names = list(tools) if isinstance(tools, dict) else list(tools)
    entries = (out / "src" / "tools.rs").read_text().count("ToolSpec {")
    problems = []
    if entries != len(names):
        problems.append(f"src/tools.rs has {entries} tools, the manifest {len(names)}")

    expected = operations_kept(spec)
    if len(names) != expected:
        problems.append(f"{len(names)} tools for {expected} operations")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"duplicate tool names: {dupes[:10]}")
    problems += [f"bad tool name `{n}`" for n in names if not NAME.match(n)]

    inputs = sorted((out / "schemas").glob("*.input.json"))
    if len(inputs) != len(set(names)):
        problems.append(f"{len(inputs)} input schema files for {len(set(names))} tools")
    for name in sorted(set(names)):
        path = out / "schemas" / f"{name}.input.json"
        if not path.exists():
            problems.append(f"{name}: no input schema file")
            continue
        schema = json.loads(path.read_text())
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as e:
            where = "/".join(str(p) for p in e.absolute_path)
            problems.append(f"{name}: invalid 2020-12 schema at /{where}: {e.message[:200]}")
        if schema.get("type") != "object":
            problems.append(f"{name}: root is not {{\"type\": \"object\"}}")
        for key in ("oneOf", "anyOf", "allOf", "$defs"):
            if key in schema:
                problems.append(f"{name}: root `{key}`")
        find_refs(schema, name, problems)
        output = out / "schemas" / f"{name}.output.json"
        if output.exists():
            try:
                Draft202012Validator.check_schema(json.loads(output.read_text()))
            except SchemaError as e:
                where = "/".join(str(p) for p in e.absolute_path)
                problems.append(f"{name}: invalid output schema at /{where}: {e.message[:200]}")

    if problems:
        for p in problems[:50]:
            print(f"corpus_check: {spec_path}: {p}", file=sys.stderr)
        if len(problems) > 50:
            print(f"corpus_check: … and {len(problems) - 50} more", file=sys.stderr)
        sys.exit(1)
    print(expected, len(names))


if __name__ == "__main__":
    main()
