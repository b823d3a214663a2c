"""The test peers themselves (Part 1 and 2 of the harness): the authorization server issues what
the MCP server will be asked to accept, and Prism checks the upstream credential. These need no
generated server, so they also tell a broken peer apart from a broken server."""

import support


def test_authorization_server_metadata(auth_server):
    with support.http_client() as c:
        meta = c.get(f"{auth_server.issuer}/.well-known/oauth-authorization-server").json()
        jwks = c.get(meta["jwks_uri"]).json()
    assert meta["issuer"] == auth_server.issuer
    assert {"authorization_code", "refresh_token", "client_credentials"} <= set(meta["grant_types_supported"])
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["registration_endpoint"].startswith(auth_server.issuer)
    assert {"read:pets", "write:pets"} <= set(meta["scopes_supported"])
    # The published key is the test's key (public half only).
    [key] = jwks["keys"]
    assert key["kid"] == auth_server.key.kid and "d" not in key


def test_client_credentials_jwt_for_the_requested_resource(auth_server):
    resource = "http://127.0.0.1:8000/mcp"
    response = support.client_credentials_token(
        auth_server.issuer, auth_server.client_id, auth_server.client_secret,
        scope="read:pets write:pets unknown:scope", resource=resource)
    token = response["access_token"]
    import jwt
    assert jwt.get_unverified_header(token)["kid"] == auth_server.key.kid
    claims = auth_server.key.verify(token, audience=resource, issuer=auth_server.issuer)
    assert claims["aud"] == resource
    assert claims["scope"].split() == ["read:pets", "write:pets"]  # the unknown scope is dropped
    assert claims["exp"] > claims["iat"]


def test_authorization_code_flow_with_scripted_browser(auth_server):
    resource = "http://127.0.0.1:8001/mcp"
    response = support.authorization_code_token(auth_server.issuer, resource=resource, scope="read:pets")
    claims = auth_server.key.verify(response["access_token"], audience=resource, issuer=auth_server.issuer)
    assert claims["scope"] == "read:pets" and claims["sub"] == "e2e-user"
    # …and the refresh grant gives another token for the same resource.
    with support.http_client() as c:
        r = c.post(f"{auth_server.issuer}/token", data={
            "grant_type": "refresh_token", "refresh_token": response["refresh_token"],
            "client_id": response["client_id"]})
    assert r.status_code == 200, r.text
    refreshed = auth_server.key.verify(r.json()["access_token"], audience=resource, issuer=auth_server.issuer)
    assert refreshed["scope"] == "read:pets"


def test_prism_requires_the_api_key_and_logs_headers(prism):
    with support.http_client() as c:
        without = c.get(f"{prism.base_url}/pet/3", headers={"Accept": "application/json"})
        with_key = c.get(f"{prism.base_url}/pet/3", headers={"Accept": "application/json", "api_key": "k-123"})
    assert without.status_code == 401 and "sl-violations" in without.headers
    assert with_key.status_code == 200 and "name" in with_key.json()
    seen = [r for r in prism.requests() if r.path == "/pet/3"]
    assert [r.headers.get("api_key") for r in seen[-2:]] == [None, "k-123"]
