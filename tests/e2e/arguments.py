"""Schema-valid tool arguments for a tool's inputSchema: the spec's own examples where they
validate, otherwise values generated from the schema (types, formats, bounds, enums)."""

from __future__ import annotations

import base64
import copy

from jsonschema import Draft202012Validator, FormatChecker

FORMATS = {
    "date-time": "2024-05-01T12:00:00Z",
    "date": "2024-05-01",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "uuid": "1725ff48-ab45-4bb5-9d02-88745177dedb",
    "uri": "https://example.com/x",
    "url": "https://example.com/x",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "aGVsbG8=",
    "binary": "hello",
    "password": "secret-123",
}


def arguments(schema: dict) -> dict:
    """Arguments valid against `schema`, preferring the spec's examples."""
    # Formats asserted too: a spec's own example can break its format (train-travel's uuid).
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for use_examples in (True, False):
        args = value(schema, use_examples, 0)
        if isinstance(args, dict) and validator.is_valid(args):
            return args
    errors = [e.message for e in validator.iter_errors(value(schema, False, 0))]
    raise AssertionError(f"cannot build valid arguments for {schema}: {errors[:3]}")


def value(schema, use_examples: bool, depth: int):
    if not isinstance(schema, dict):
        return "x"
    if use_examples:
        if schema.get("examples"):
            return copy.deepcopy(schema["examples"][0])
        if "example" in schema:
            return copy.deepcopy(schema["example"])
        if "default" in schema:
            return copy.deepcopy(schema["default"])
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return next((e for e in schema["enum"] if e is not None), schema["enum"][0])
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            rest = {k: v for k, v in schema.items() if k != key}
            branch = next((b for b in schema[key] if b.get("type") != "null"), schema[key][0])
            return value({**rest, **branch}, use_examples, depth)
    if schema.get("allOf"):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            for k, v in part.items():
                if k == "properties":
                    merged.setdefault("properties", {}).update(v)
                elif k == "required":
                    merged["required"] = sorted(set(merged.get("required", [])) | set(v))
                else:
                    merged.setdefault(k, v)
        return value(merged, use_examples, depth)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "object":
        required = set(schema.get("required", []))
        out = {}
        for name, sub in schema.get("properties", {}).items():
            if name in required or depth < 3:
                out[name] = value(sub, use_examples, depth + 1)
        return out
    if kind == "array":
        # Two items where allowed: one item of a repeated form or multipart field is
        # indistinguishable from a scalar on the wire.
        count = max(1, min(2, schema.get("maxItems", 2)), schema.get("minItems", 0))
        items = schema.get("items", {})
        if schema.get("uniqueItems") and items.get("enum"):
            return list(items["enum"][:count])
        return [value(items, use_examples, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        n = low + 1 if "exclusiveMinimum" in schema else max(low, 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum"))
        if high is not None and n > high:
            n = high
        return int(n) if kind == "integer" else n
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if schema.get("contentEncoding") == "base64":
        # Bytes (a file, a raw body): a few bytes no text encoding would produce.
        return base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\xff").decode()
    text = FORMATS.get(schema.get("format", ""), "example")
    if len(text) < schema.get("minLength", 0):
        text = text + "x" * (schema["minLength"] - len(text))
    if "maxLength" in schema:
        text = text[: schema["maxLength"]]
    return text
