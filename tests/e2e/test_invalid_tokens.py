"""4. A present but invalid token (expired, for another audience, forged, from another issuer)
is answered with HTTP 401 and `WWW-Authenticate: Bearer error="invalid_token", …,
resource_metadata=…`, whatever AUTH_CHALLENGE says. A well-formed token minted the same way is
accepted (the control), so each refusal is about the one thing that is wrong."""

import pytest

from support import RawMcp, SigningKey, parse_bearer_challenge

SCOPES = "read:pets write:pets"


@pytest.fixture(scope="module")
def stranger_key():
    return SigningKey.generate()


def tokens(auth_server, server, stranger_key) -> dict[str, str]:
    key, iss, aud = auth_server.key, auth_server.issuer, server.resource
    other_key = SigningKey(stranger_key.private_key, kid=key.kid)  # same kid, other key
    return {
        "expired": key.mint(iss=iss, aud=aud, scope=SCOPES, issued_ago=7200, expires_in=600),
        "other audience (from the AS)": auth_server.client_credentials(
            scope=SCOPES, resource="http://127.0.0.1:1/another-mcp"),
        "forged signature": other_key.mint(iss=iss, aud=aud, scope=SCOPES),
        "other issuer": key.mint(iss="http://127.0.0.1:1", aud=aud, scope=SCOPES),
    }


@pytest.mark.parametrize("mode", ["tool", "http"])
def test_a_valid_minted_token_is_accepted(mode, mcp_servers, auth_server):
    server = mcp_servers(mode)
    token = auth_server.key.mint(iss=auth_server.issuer, aud=server.resource, scope=SCOPES)
    r, reply = RawMcp(server.mcp_url, token).initialize()
    assert r.status_code == 200 and reply and "result" in reply, f"HTTP {r.status_code} {r.headers} {r.text[:300]}"


@pytest.mark.parametrize("mode", ["tool", "http"])
@pytest.mark.parametrize("case", ["expired", "other audience (from the AS)", "forged signature", "other issuer"])
def test_invalid_token_gets_401_invalid_token(case, mode, mcp_servers, auth_server, stranger_key, prism):
    server = mcp_servers(mode)
    token = tokens(auth_server, server, stranger_key)[case]
    before = len(prism.requests())
    for method, params in (("initialize", None), ("tools/call", {"name": "get_pet_by_id", "arguments": {"petId": 1}})):
        raw = RawMcp(server.mcp_url, token)
        r, _ = raw.initialize() if method == "initialize" else raw.request(method, params)
        assert r.status_code == 401, f"{method} with an {case} token: HTTP {r.status_code} {r.text[:300]}"
        header = r.headers.get("www-authenticate", "")
        challenge = parse_bearer_challenge(header)
        assert challenge["scheme"].lower() == "bearer", header
        assert challenge.get("error") == "invalid_token", header
        assert challenge.get("error_description"), header
        assert challenge.get("resource_metadata") in server.prm_urls, header
    assert len(prism.requests()) == before
