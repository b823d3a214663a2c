// The OAuth 2.1 authorization server of the end-to-end tests: oidc-provider (pinned in
// tests/peers/package.json), configured the way an MCP resource server expects its AS to be.
//
//   node authorization-server.mjs --port 9000 --jwks /tmp/as-key.jwks.json \
//        [--host 127.0.0.1] [--client-id e2e-client] [--client-secret e2e-secret] [--opaque]
//   (or the env vars AS_PORT, AS_JWKS, AS_HOST, AS_CLIENT_ID, AS_CLIENT_SECRET)
//
// Run it with Node 24 (scripts/peers.sh). PEERS_NODE_MODULES (exported by peers.sh) says
// where oidc-provider is installed; without it the normal module resolution is used.
//
// What it offers (issuer http://<host>:<port>, no path):
//  - RFC 8414 metadata at /.well-known/oauth-authorization-server (and openid-configuration);
//  - JWKS at /jwks: the public half of the private JWK set the test wrote to --jwks, so the
//    test can mint its own tokens with the same key (expired, wrong audience…);
//  - open dynamic client registration (/reg), PKCE (S256), the authorization_code,
//    refresh_token and client_credentials grants;
//  - resource indicators (RFC 8707) for ANY requested resource: the access token is a JWT
//    whose `aud` is that resource and whose `scope` holds the granted read:pets / write:pets;
//  - devInteractions login pages that accept any login and password, and a grant loader that
//    consents to everything requested, so a scripted browser finishes the code flow with
//    plain HTTP: GET /auth?… → 303 /interaction/<uid> → POST login → 303 … → redirect_uri?code=…
//    (native clients still get the consent page: POST prompt=consent there);
//  - a pre-registered confidential client (client_secret_basic or _post) for client_credentials;
//  - RFC 8693 token exchange for the client `<client-id>-exchange` (same secret): a subject
//    access token signed by this AS (iss checked, unexpired) becomes a JWT for `audience`
//    (or `resource`) with the same sub and scope and `act: {sub: <client>}`.
//  - RFC 7662 introspection (/token/introspection) for the pre-registered client;
//    --opaque: access tokens for resources are opaque (not JWTs; `aud` only via introspection),
//    as with authorization servers that do not issue RFC 9068 tokens.
// Every request is logged to stdout as one line: "<METHOD> <path> <status>".

import { createPrivateKey, createPublicKey, randomUUID, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

const { values: args } = parseArgs({
  options: {
    host: { type: 'string', default: process.env.AS_HOST || '127.0.0.1' },
    port: { type: 'string', default: process.env.AS_PORT },
    jwks: { type: 'string', default: process.env.AS_JWKS },
    'client-id': { type: 'string', default: process.env.AS_CLIENT_ID || 'e2e-client' },
    'client-secret': { type: 'string', default: process.env.AS_CLIENT_SECRET || 'e2e-secret' },
    opaque: { type: 'boolean', default: process.env.AS_OPAQUE === '1' },
  },
});

function fail(message) {
  console.error(`authorization-server: ${message}`);
  process.exit(2);
}

if (!args.port || !/^\d+$/.test(args.port)) fail('--port <number> (or AS_PORT) is required');
if (!args.jwks) fail('--jwks <private JWK set file> (or AS_JWKS) is required');

let jwks;
try {
  jwks = JSON.parse(readFileSync(args.jwks, 'utf8'));
} catch (err) {
  fail(`cannot read the JWK set ${args.jwks}: ${err.message}`);
}
if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) fail(`${args.jwks} has no "keys"`);
const signingKey = jwks.keys[0];
if (!signingKey.d) fail(`${args.jwks}: the first key must be a private key`);
const signingAlg = signingKey.alg
  || { RSA: 'RS256', EC: { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[signingKey.crv], OKP: 'EdDSA' }[signingKey.kty];
if (!signingAlg) fail(`${args.jwks}: cannot tell the signing algorithm of the first key`);

const oidcProviderUrl = process.env.PEERS_NODE_MODULES
  ? pathToFileURL(join(process.env.PEERS_NODE_MODULES, 'oidc-provider', 'lib', 'index.js')).href
  : 'oidc-provider';
const { default: Provider } = await import(oidcProviderUrl);

const issuer = `http://${args.host}:${args.port}`;
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const RESOURCE_SCOPES = 'read:pets write:pets';

const configuration = {
  jwks,
  clients: [
    {
      client_id: args['client-id'],
      client_secret: args['client-secret'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      // The MCP server exchanging its callers' tokens (RFC 8693) for upstream ones.
      client_id: `${args['client-id']}-exchange`,
      client_secret: args['client-secret'],
      grant_types: [TOKEN_EXCHANGE],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
    },
    {
      // The same client, authenticating in the body (some tools prefer it).
      client_id: `${args['client-id']}-post`,
      client_secret: args['client-secret'],
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ],
  // Advertised in scopes_supported; DCR clients may list them in their `scope` metadata.
  scopes: ['openid', 'offline_access', 'read:pets', 'write:pets'],
  claims: { openid: ['sub'] },
  responseTypes: ['code'], // OAuth 2.1: no implicit flow
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true, initialAccessToken: false },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // No resource requested: no resource-bound token (an opaque userinfo one with openid).
      defaultResource: async (ctx, client, oneOf) => (oneOf ? oneOf[0] : undefined),
      // Any resource the client asks for gets JWT access tokens with aud = that resource.
      getResourceServerInfo: async () => ({
        scope: RESOURCE_SCOPES,
        accessTokenTTL: 600,
        ...(args.opaque
          ? { accessTokenFormat: 'opaque' }
          : { accessTokenFormat: 'jwt', jwt: { sign: { alg: signingAlg } } }),
      }),
      // At the token endpoint the granted resource is used when none is repeated.
      useGrantedResource: async () => true,
    },
  },
  // Auto-consent: grant every scope and resource the authorization request asks for.
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
    grant ||= new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    const oidcScopes = [...oidc.requestParamOIDCScopes];
    if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
    for (const [indicator, resourceServer] of Object.entries(oidc.resourceServers)) {
      const scopes = [...oidc.requestParamScopes].filter((s) => resourceServer.scopes.has(s));
      if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
    }
    await grant.save();
    return grant;
  },
  // Refresh tokens for every client allowed the grant, offline_access or not.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return { sub }; } };
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    ClientCredentials: 600,
    Grant: 3600,
    IdToken: 600,
    Interaction: 600,
    RefreshToken: 3600,
    Session: 3600,
  },
  cookies: { keys: ['mcp-gen-e2e-cookie-key-not-a-secret'] },
  // A failure's reason in the response body helps the test report.
  renderError: async (ctx, out) => {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(issuer, configuration);

// RFC 8693 token exchange, hand-rolled (oidc-provider has no built-in handler): the subject
// token must be a JWT access token this AS signed; the result is a JWT for the audience.
const privateKey = createPrivateKey({ key: signingKey, format: 'jwk' });
const publicKey = createPublicKey(privateKey);
const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const jwsAlgs = { RS256: ['sha256', {}], ES256: ['sha256', { dsaEncoding: 'ieee-p1363' }] };

function verifySubject(token) {
  try {
    return verifyJwt(token);
  } catch {
    return undefined; // not a JWT at all
  }
}

function verifyJwt(token) {
  const [h, p, sig] = String(token || '').split('.');
  if (!sig) return undefined;
  const header = JSON.parse(Buffer.from(h, 'base64url'));
  const [hash, options] = jwsAlgs[header.alg] || [];
  if (!hash || header.alg !== signingAlg) return undefined;
  const ok = verify(hash, Buffer.from(`${h}.${p}`), { key: publicKey, ...options }, Buffer.from(sig, 'base64url'));
  const claims = ok ? JSON.parse(Buffer.from(p, 'base64url')) : undefined;
  const now = Math.floor(Date.now() / 1000);
  return claims && claims.iss === issuer && claims.exp > now ? claims : undefined;
}

function mint(claims) {
  const [hash, options] = jwsAlgs[signingAlg] || [];
  if (!hash) throw new Error(`token exchange cannot sign with ${signingAlg}`);
  const input = `${b64({ alg: signingAlg, typ: 'at+jwt', kid: signingKey.kid })}.${b64(claims)}`;
  return `${input}.${sign(hash, Buffer.from(input), { key: privateKey, ...options }).toString('base64url')}`;
}

provider.registerGrantType(TOKEN_EXCHANGE, async (ctx) => {
  const params = ctx.oidc.params;
  const fail = (error, description) => {
    ctx.status = 400;
    ctx.body = { error, error_description: description };
  };
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) return fail('invalid_request', 'subject_token_type must be an access token');
  const audience = params.audience || params.resource;
  if (!audience) return fail('invalid_target', 'audience or resource is required');
  const subject = verifySubject(params.subject_token);
  if (!subject) return fail('invalid_grant', 'subject_token is not a valid access token of this issuer');
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = 300;
  const claims = {
    iss: issuer, sub: subject.sub, aud: audience, iat: now, exp: now + expiresIn, jti: randomUUID(),
    client_id: ctx.oidc.client.clientId, act: { sub: ctx.oidc.client.clientId },
  };
  if (subject.scope) claims.scope = subject.scope;
  ctx.body = {
    access_token: mint(claims), issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: expiresIn,
  };
  console.log(`token exchange: sub=${subject.sub} aud=${audience} client=${ctx.oidc.client.clientId}`);
}, ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope', 'actor_token', 'actor_token_type']);

// One log line per request: the tests show this file when they fail.
provider.use(async (ctx, next) => {
  await next();
  console.log(`${ctx.method} ${ctx.path} ${ctx.status}`);
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));
for (const event of ['grant.error', 'registration_create.error', 'authorization.error']) {
  provider.on(event, (ctx, err) => console.log(`${event}: ${err.error || err.name}: ${err.error_description || err.message}`));
}

const server = provider.listen(Number(args.port), args.host, () => {
  console.log(`authorization server ${issuer} ready (signing ${signingAlg}, kid ${signingKey.kid ?? '-'}${args.opaque ? ', opaque access tokens' : ''})`);
});
server.on('error', (err) => fail(`cannot listen on ${args.host}:${args.port}: ${err.message}`));
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
