"""The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in
tests/peers/package.json) against the Petstore server generated with `--auth none` (the suite
cannot send an Authorization header). MCP_NOAUTH_SERVER_BIN names that binary
(scripts/test.sh builds it).

Every server scenario of the requirement sets 2025-11-25 and 2026-07-28 runs
(`conformance server --requirements SET`, scenarios the set does not score included), and every
check must pass unless one of the tables below names it, with the reason, as not applicable to a
generated server. The tables cannot rot: a listed scenario that starts passing, a listed check
that starts passing, and an entry the suite no longer reports all fail the test. An applicable
check the suite reports as "Not testable" fails like any other. README.md ("Protocol
conformance") lists the same."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

import support
from auth_support import start_mcp_server

REQUIREMENT_SETS = ["2025-11-25", "2026-07-28"]

# Scenarios each set must run, so a suite that silently stopped running them cannot pass.
CORE = {
    "2025-11-25": {"server-initialize", "ping", "tools-list", "dns-rebinding-protection"},
    "2026-07-28": {"server-stateless", "tools-list", "caching", "http-header-validation",
                   "dns-rebinding-protection", "sep-2164-resource-not-found",
                   "input-required-result-unsupported-methods"},
}

# A check that passes wherever it runs, in not-applicable scenarios too: every message the
# server sent is valid for the negotiated version.
ALWAYS = {"wire-schema-valid"}


def _tool(name: str, what: str = "") -> str:
    return (f"needs the diagnostic tool `{name}`{what}; a generated server only offers the API's "
            "operations")


ONLY_TOOLS = "the server offers tools only (one per API operation): no prompts, resources or completions"
NO_INPUT = ("a generated server never asks the client for input (elicitation, sampling, roots), "
            "so it never answers with an input-required result")
STATELESS = "the server is stateless: it issues no `Mcp-Session-Id` and answers with JSON, not SSE streams"

# Scenarios that do not apply to a generated server as a whole.
NOT_APPLICABLE: dict[str, str] = {
    "tools-call-simple-text": _tool("test_simple_text"),
    "tools-call-image": _tool("test_image_content"),
    "tools-call-audio": _tool("test_audio_content"),
    "tools-call-embedded-resource": _tool("test_embedded_resource"),
    "tools-call-mixed-content": _tool("test_multiple_content_types"),
    "tools-call-error": _tool("test_error_handling"),
    "tools-call-with-progress": _tool("test_tool_with_progress"),
    "tools-call-with-logging": _tool("test_tool_with_logging", " and the logging capability"),
    "tools-call-sampling": _tool("test_sampling", ", which asks the client to sample"),
    "tools-call-elicitation": _tool("test_elicitation", ", which asks the user for input"),
    "elicitation-sep1034-defaults": _tool("test_elicitation_sep1034_defaults"),
    "elicitation-sep1330-enums": _tool("test_elicitation_sep1330_enums"),
    "json-schema-2020-12": _tool("json_schema_2020_12_tool"),
    "http-custom-header-server-validation": (
        "needs a tool whose parameters carry `x-mcp-header` annotations; generated tools mirror no "
        "argument into headers"),
    "logging-set-level": ("the server declares no logging capability; it logs to its own output "
                          "(`RUST_LOG`)"),
    "completion-complete": ONLY_TOOLS,
    **{name: ONLY_TOOLS for name in [
        "resources-list", "resources-read-text", "resources-read-binary", "resources-templates-read",
        "resources-subscribe", "resources-unsubscribe", "prompts-list", "prompts-get-simple",
        "prompts-get-with-args", "prompts-get-embedded-resource", "prompts-get-with-image"]},
    **{f"input-required-result-{name}": NO_INPUT for name in [
        "basic-elicitation", "basic-sampling", "basic-list-roots", "request-state",
        "multiple-input-requests", "multi-round", "missing-input-response", "non-tool-request",
        "result-type", "tampered-state", "capability-check", "ignore-extra-params"]},
    "server-session-lifecycle": STATELESS,
    "server-sse-polling": STATELESS,
    **{f"tasks-{name}": ("the tasks extension, which a generated server does not offer: every tool "
                         "call is answered in its own response")
       for name in ["lifecycle", "capability-negotiation", "wire-fields", "request-state-removal",
                    "mrtr-input", "request-headers", "dispatch-and-envelope", "status-notifications",
                    "required-task-error", "mrtr-composition"]},
}

LISTEN = ("the tool list never changes while the server runs and it offers no resources, so it "
          "declares no list-changed or subscribe capability and has no `subscriptions/listen` stream")
NO_RESOURCES = ("the server offers no resources: `resources/read` is a method it does not have, "
                "answered like every such method with -32601 (method not found) and HTTP 404")

# Checks that do not apply inside scenarios that do.
NOT_APPLICABLE_CHECKS: dict[tuple[str, str], str] = {
    ("server-initialize", "server-session-id-visible-ascii"): STATELESS,
    ("server-sse-multiple-streams", "server-sse-multiple-streams-session"): STATELESS,
    ("server-sse-multiple-streams", "server-sse-streams-functional"): STATELESS,
    ("server-stateless", "sep-2575-server-rejects-undeclared-capability"): _tool(
        "test_missing_capability", "; the server relies on no client capability"),
    ("server-stateless", "sep-2575-missing-capability-http-400"): _tool(
        "test_missing_capability", "; the server relies on no client capability"),
    ("server-stateless", "sep-2575-http-server-no-independent-requests-on-stream"): _tool(
        "test_streaming_elicitation", "; the server sends no requests to the client"),
    ("server-stateless", "sep-2575-server-no-log-without-loglevel"): _tool(
        "test_logging_tool", "; the server sends no log notifications"),
    **{("server-stateless", f"sep-2575-{name}"): LISTEN for name in [
        "server-sends-subscription-ack", "server-tags-subscription-id",
        "server-honors-notification-filter", "server-sends-prompts-list-changed-on-subscription",
        "server-sends-tools-list-changed-on-subscription"]},
    **{("caching", f"sep-2549-{name}-caching-hints"): ONLY_TOOLS
       for name in ["prompts-list", "resources-list", "resources-templates-list", "resources-read"]},
    ("sep-2164-resource-not-found", "sep-2164-error-code"): NO_RESOURCES,
    ("sep-2164-resource-not-found", "sep-2164-data-uri"): NO_RESOURCES,
}

SCENARIO_DIR = re.compile(r"^server-(?P<name>.+)-\d{4}-\d{2}-\d{2}T[\d-]+Z$")


@pytest.fixture(scope="module")
def noauth_server(workdir, prism):
    value = os.environ.get("MCP_NOAUTH_SERVER_BIN")
    if not value or not os.access(value, os.X_OK):
        pytest.fail("MCP_NOAUTH_SERVER_BIN must name the Petstore server generated with --auth none "
                    f"(got {value!r}); scripts/test.sh builds it", pytrace=False)
    if not os.environ.get("PEERS_CONFORMANCE"):
        pytest.fail('PEERS_CONFORMANCE is not set: eval "$(scripts/peers.sh)"', pytrace=False)
    srv = start_mcp_server(Path(value), workdir, "mcp server noauth", {
        "AUTHORIZATION_SERVER_URL": None,
        "UPSTREAM_BASE_URL": prism.base_url,
    })
    yield srv
    srv.proc.stop()


@pytest.fixture(scope="module")
def results(noauth_server, workdir) -> dict[str, dict[str, list[dict]]]:
    """Per requirement set, per scenario, the checks the suite reported (its checks.json)."""
    found: dict[str, dict[str, list[dict]]] = {}
    for requirements in REQUIREMENT_SETS:
        out = workdir / f"conformance-{requirements}"
        cmd = [os.environ["PEERS_NODE"], os.environ["PEERS_CONFORMANCE"], "server",
               "--url", noauth_server.mcp_url, "--requirements", requirements, "-o", str(out)]
        # Exits non-zero whenever a check fails, the not-applicable ones included: judged below.
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=90, env=support.node_env())
        scenarios: dict[str, list[dict]] = {}
        for directory in sorted(out.iterdir()) if out.is_dir() else []:
            match = SCENARIO_DIR.match(directory.name)
            if match and (directory / "checks.json").is_file():
                scenarios[match["name"]] = json.loads((directory / "checks.json").read_text())
        if not scenarios:
            pytest.fail(f"the suite reported no scenario for {requirements} (exit {done.returncode}):\n"
                        f"{(done.stdout + done.stderr)[-3000:]}", pytrace=False)
        found[requirements] = scenarios
    return found


def _untestable(check: dict) -> bool:
    return bool((check.get("details") or {}).get("untestable")) or \
        (check.get("errorMessage") or "").startswith("Not testable")


def _describe(scenario: str, check: dict) -> str:
    kind = "not testable" if _untestable(check) else check["status"]
    message = check.get("errorMessage") or check.get("description") or ""
    return f"{scenario} / {check['id']}: {kind}: {message[:300]}"


def judge(scenarios: dict[str, list[dict]]) -> tuple[list[str], list[str]]:
    """The problems in one requirement set's results, and a line per scenario for the log."""
    problems, lines = [], []
    for scenario, checks in sorted(scenarios.items()):
        statuses = Counter(check["status"] for check in checks)
        passed = statuses["SUCCESS"]
        if scenario in NOT_APPLICABLE:
            lines.append(f"{scenario:48} not applicable ({passed}/{len(checks)} checks pass)")
        else:
            listed = sum((scenario, c["id"]) in NOT_APPLICABLE_CHECKS for c in checks)
            lines.append(f"{scenario:48} {passed}/{len(checks) - listed} passed, "
                         f"{statuses['WARNING']} warnings, {listed} checks not applicable")
        if not checks:
            problems.append(f"{scenario}: reported no checks")
            continue
        if scenario in NOT_APPLICABLE:
            if passed == len(checks):
                problems.append(f"{scenario} now passes: it applies, take it out of NOT_APPLICABLE "
                                "(and the README)")
            problems += [_describe(scenario, c) for c in checks
                         if c["id"] in ALWAYS and c["status"] != "SUCCESS"]
            continue
        for check in checks:
            listed = (scenario, check["id"]) in NOT_APPLICABLE_CHECKS
            if check["status"] == "SUCCESS" and listed:
                problems.append(f"{scenario} / {check['id']} now passes: take it out of "
                                "NOT_APPLICABLE_CHECKS (and the README)")
            elif check["status"] != "SUCCESS" and not listed:
                problems.append(_describe(scenario, check))
    return problems, lines


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS)
def test_requirement_set(requirements, results):
    scenarios = results[requirements]
    problems, lines = judge(scenarios)
    print(f"conformance {requirements}:\n" + "\n".join(lines))
    missing = CORE[requirements] - scenarios.keys()
    assert not missing, f"the suite did not run {sorted(missing)} for {requirements}"
    assert not problems, f"{requirements}:\n" + "\n".join(problems)


def test_not_applicable_tables_name_what_the_suite_reports(results):
    reported = {(scenario, check["id"])
                for scenarios in results.values()
                for scenario, checks in scenarios.items()
                for check in checks}
    scenarios = {scenario for scenario, _ in reported}
    stale = [f"scenario {s}" for s in NOT_APPLICABLE if s not in scenarios]
    stale += [f"check {s} / {c}" for s, c in NOT_APPLICABLE_CHECKS if (s, c) not in reported]
    assert not stale, "listed as not applicable but no longer reported by the suite: " + ", ".join(stale)
    both = set(NOT_APPLICABLE) & {s for s, _ in NOT_APPLICABLE_CHECKS}
    assert not both, f"listed both as a whole and check by check: {sorted(both)}"


def test_judging_catches_rot():
    """The rules above, on made-up results: what the tables would let slip must fail."""
    ok = {"id": "tools-list", "status": "SUCCESS"}
    untestable = {"id": "x", "status": "FAILURE", "errorMessage": "Not testable: no tool",
                  "details": {"untestable": True}}
    assert judge({"tools-list": [ok]})[0] == []
    assert "not testable" in judge({"tools-list": [ok, untestable]})[0][0]
    assert "now passes" in judge({"prompts-list": [{"id": "prompts-list", "status": "SUCCESS"}]})[0][0]
    assert judge({"prompts-list": [{"id": "prompts-list", "status": "FAILURE"}]})[0] == []
    bad_wire = [{"id": "prompts-list", "status": "FAILURE"}, {"id": "wire-schema-valid", "status": "FAILURE"}]
    assert "wire-schema-valid" in judge({"prompts-list": bad_wire})[0][0]
    listed = {"id": "sep-2164-error-code", "status": "SUCCESS"}
    assert "now passes" in judge({"sep-2164-resource-not-found": [listed]})[0][0]
    assert "no checks" in judge({"ping": []})[0][0]
