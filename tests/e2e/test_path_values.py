"""Path values fill exactly one path segment. An empty value (`DELETE /user/` is routed to the
collection by many frameworks), a `/` or `\\` in any percent-encoded spelling (an upstream or
proxy that decodes before routing turns `%2F` into a new segment) and `.`/`..` segments are
refused with a tool error naming the argument, and nothing reaches the upstream. Every path
style (simple, label, matrix; exploded or not; primitives, arrays, objects) of
`parameters-style.json` (the fid-parameters server, anonymous tools) is driven against the
recording upstream of tests/e2e/upstream_peer.py, which shows exactly what arrives."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from upstream_fixtures import start_server

# (value, why it must not reach the upstream as a path segment)
REFUSED = [
    ("", "empty segment"),
    ("a/b", "slash"),
    ("a%2Fb", "encoded slash"),
    ("a%2fb", "encoded slash, lower case"),
    ("a%252Fb", "double-encoded slash"),
    ("a\\b", "backslash"),
    ("a%5Cb", "encoded backslash"),
    ("..", "dot segment"),
    (".", "dot segment"),
    ("%2e%2e", "encoded dot segment"),
    ("%252e%252e", "double-encoded dot segment"),
    ("../admin", "traversal"),
    ("..%2fadmin", "encoded traversal"),
    ("//evil.example/x", "authority-looking path"),
]
# Harmless values that still go through, one segment each, decoding back to themselves.
PASSING = ["x", "x y", "x?q=1", "x#frag", "@evil.example", "100%", "a.b", "...", "é", "%zz"]


@pytest.fixture(scope="module")
def server(workdir, peer):
    srv = start_server(workdir, "fid-parameters", "path values", {"UPSTREAM_BASE_URL": peer.base_url})
    yield srv
    srv.proc.stop()


@pytest.fixture(scope="module")
def path_tools(server) -> dict[str, str]:
    """Tool name by its path style: `simple`, `simple exploded`, `label`, … (the spec's paths)."""
    tools = {}
    for tool in server.rpc("tools/list")["tools"]:
        name = tool["name"]
        for style in ("simple", "label", "matrix"):
            if name.startswith(f"paths_{style}_"):
                tools[f"{style}{'' if 'non' in name else ' exploded'}"] = name
    assert len(tools) == 6, tools
    return tools


def text_of(result) -> str:
    return " ".join(c.get("text", "") for c in result.get("content", []))


def attempt(server, peer, tool: str, args: dict) -> tuple[dict, list]:
    before = len(peer.requests())
    result = server.call(tool, args)
    return result, peer.requests()[before:]


OK_ARGS = {"primitive": "p", "array": ["a", "b"], "object": {"name": "n"}}


def test_values_that_leave_their_segment_are_refused_before_the_upstream(server, peer, path_tools):
    rows, leaked = [], []
    for value, why in REFUSED:
        result, seen = attempt(server, peer, path_tools["simple"], {**OK_ARGS, "primitive": value})
        outcome = f"sent {seen[0].target}" if seen else "refused, no request"
        rows.append(f"PATH | {value!r} ({why}) | {outcome} | {text_of(result)[:120]}")
        if seen or not result.get("isError") or "`primitive`" not in text_of(result):
            leaked.append(rows[-1])
    print("\n".join(rows))
    print(f"PATH | refused before the upstream: {len(REFUSED) - len(leaked)}/{len(REFUSED)}")
    assert not leaked, "\n".join(leaked)


@pytest.mark.parametrize("style", ["simple", "simple exploded", "label", "label exploded", "matrix",
                                   "matrix exploded"])
def test_every_style_keeps_arrays_and_objects_in_their_segment(server, peer, path_tools, style):
    tool = path_tools[style]
    for arg, bad in [("primitive", "a/b"), ("primitive", ""), ("array", ["ok", "a%2Fb"]), ("array", []),
                     ("object", {"name": "../x"}), ("object", {"name": "a\\b"}), ("object", {})]:
        result, seen = attempt(server, peer, tool, {**OK_ARGS, arg: bad})
        assert result.get("isError") and f"`{arg}`" in text_of(result), f"{style} {arg}={bad!r}: {result}"
        assert seen == [], f"{style} {arg}={bad!r} reached the upstream: {seen[0].target}"
    result, seen = attempt(server, peer, tool, OK_ARGS)
    assert not result.get("isError") or "HTTP" in text_of(result), result  # the peer may answer 404
    [request] = seen
    assert request.target.count("/") == 6, request.target  # /anything/path/<style>/{p}/{a}/{o}


@pytest.mark.parametrize("value", PASSING)
def test_ordinary_values_still_pass_in_one_segment(server, peer, path_tools, value):
    result, seen = attempt(server, peer, path_tools["simple"], {**OK_ARGS, "primitive": value})
    assert len(seen) == 1, f"{value!r}: {result}"
    path = seen[0].target.partition("?")[0]
    segments = path.split("/")
    assert segments[:4] == ["", "anything", "path", "simple"] and len(segments) == 7, seen[0].target
    assert unquote(segments[4]) == value


# --- allowReserved: `/` allowed, dot segments still not ----------------------------------------------

@pytest.fixture(scope="module")
def faults(workdir, peer):
    """upstream-faults.json, whose `fault` tool (anonymous) has `kind` with `allowReserved: true`."""
    srv = start_server(workdir, "upstream-faults", "allow reserved", {"UPSTREAM_BASE_URL": peer.base_url})
    yield srv
    srv.proc.stop()


def test_allow_reserved_sends_slashes_as_is_but_no_dot_segments(faults, peer):
    result, seen = attempt(faults, peer, "fault", {"kind": "status/404"})
    assert [r.target for r in seen] == ["/fault/status/404"], result
    assert result.get("isError") and "HTTP 404" in text_of(result), result
    result, seen = attempt(faults, peer, "fault", {"kind": "a b?c#d"})
    assert [r.target for r in seen] == ["/fault/a%20b%3Fc%23d"], result
    for bad in ["", "..", "status/../../admin", "x/%2e%2e/y", "./x"]:
        result, seen = attempt(faults, peer, "fault", {"kind": bad})
        assert result.get("isError") and "`kind`" in text_of(result), f"{bad!r}: {result}"
        assert seen == [], f"{bad!r} reached the upstream: {seen[0].target}"
