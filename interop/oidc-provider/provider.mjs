// oidc-provider (https://github.com/panva/node-oidc-provider), configured
// as the identity provider of one nextcloud-mcp deployment for the interop
// suite (make interop; interop/README.md). Nothing here is a fake: it is
// the certified provider with its own login and consent pages
// (devInteractions: any login name is accepted, the password is not
// checked), RFC 8707 resource indicators deciding each token's audience
// and format, dynamic registration, PKCE, introspection and revocation,
// plus two things this deployment adds through the provider's public
// extension points:
//
// - an RFC 8693 token-exchange grant (provider.registerGrantType), for
//   exchange mode: the MCP server's client trades a user's token for the
//   MCP server for one for Nextcloud, with act = {sub: the server};
// - in pass-through mode, a JWT customiser (formats.customizers.jwt) that
//   adds Nextcloud's client id to the audience of tokens for the MCP
//   server, because pass-through forwards the client's own token.
//
// Environment: MCP_URL (the MCP server's canonical URL, a resource),
// NEXTCLOUD_URL (Nextcloud's, the other resource; its tokens have
// audience "nextcloud"), SERVER_CALLBACK (the server's /oauth/callback),
// SERVER_SECRET (its client secret), MODE (passthrough or exchange),
// EXCHANGE (off: no token-exchange grant, an IdP without RFC 8693).
// It listens on 127.0.0.1 (port 0 picks one; PORT sets one) and prints
// one JSON line {"ready":true,"issuer":…} on stdout once it accepts
// connections. SIGTERM stops it.
import * as http from 'node:http';
import Provider, { errors } from 'oidc-provider';
import * as jose from 'jose';

const env = (k, def) => {
  const v = process.env[k] ?? def;
  if (v === undefined) {
    console.error(`provider.mjs: ${k} is required`);
    process.exit(2);
  }
  return v;
};
const MCP_URL = env('MCP_URL');
const NEXTCLOUD_URL = env('NEXTCLOUD_URL');
const SERVER_CALLBACK = env('SERVER_CALLBACK');
const SERVER_SECRET = env('SERVER_SECRET');
const MODE = env('MODE', 'exchange');
const EXCHANGE_ON = env('EXCHANGE', 'on') !== 'off';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const SOFT = ['notes:read', 'notes:write', 'calendar:read', 'calendar:write', 'todo:read', 'todo:write',
  'contacts:read', 'contacts:write', 'files:read', 'files:write', 'sharing:read', 'sharing:write',
  'deck:read', 'deck:write', 'cookbook:read', 'cookbook:write', 'tables:read', 'tables:write'];
const USERS = new Set(['alice', 'bob']);
// Public clients of the suite: one issuing opaque tokens for the MCP
// server (introspected there), one whose tokens for it live 2 seconds.
const OPAQUE_CLIENT = 'interop-opaque';
const SHORT_CLIENT = 'interop-short';
const LOOPBACK_CB = 'http://127.0.0.1:53682/callback';

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'interop-rs256' };
const { d, p, q, dp, dq, qi, ...publicJWK } = signingKey;
const localKeys = jose.createLocalJWKSet({ keys: [publicJWK] });

// The resource servers, by RFC 8707 resource indicator.
function resourceServer(indicator, client) {
  if (indicator === MCP_URL) {
    return {
      scope: SOFT.join(' '),
      audience: MCP_URL,
      accessTokenFormat: client?.clientId === OPAQUE_CLIENT ? 'opaque' : 'jwt',
      accessTokenTTL: client?.clientId === SHORT_CLIENT ? 2 : 3600,
      jwt: { sign: { alg: 'RS256' } },
    };
  }
  if (indicator === NEXTCLOUD_URL) {
    return {
      scope: SOFT.join(' '),
      audience: 'nextcloud',
      accessTokenFormat: 'jwt',
      accessTokenTTL: 300,
      jwt: { sign: { alg: 'RS256' } },
    };
  }
  throw new errors.InvalidTarget(`unknown resource ${indicator}`);
}

const publicClient = (id) => ({
  client_id: id, application_type: 'native', token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], redirect_uris: [LOOPBACK_CB],
});

const configuration = {
  clients: [
    {
      client_id: 'nextcloud-mcp-server', client_secret: SERVER_SECRET, application_type: 'native',
      grant_types: ['authorization_code', 'refresh_token', ...(EXCHANGE_ON ? [EXCHANGE] : [])],
      response_types: ['code'], redirect_uris: [SERVER_CALLBACK], token_endpoint_auth_method: 'client_secret_basic',
    },
    publicClient('interop-client'),
    publicClient(OPAQUE_CLIENT),
    publicClient(SHORT_CLIENT),
  ],
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'offline_access', 'profile', ...SOFT],
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'] },
  async findAccount(ctx, id) {
    if (!USERS.has(id)) return undefined;
    return { accountId: id, async claims() { return { sub: id, preferred_username: id, name: id }; } };
  },
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, indicator, client) => resourceServer(indicator, client),
    },
  },
  // RFC 8693 §4.1: an exchanged token names the party acting for the
  // subject. oidc-provider fills a token's extra claims from this hook.
  async extraTokenClaims(ctx, token) {
    return token.gty === 'token_exchange' ? { act: { sub: token.clientId } } : undefined;
  },
  responseTypes: ['code'],
  formats: {
    customizers: {
      // Pass-through forwards the client's own token to Nextcloud, whose
      // user_oidc accepts only tokens naming its client id: add it to the
      // audience of every token for the MCP server (the README's audience
      // rule for pass-through).
      async jwt(ctx, token, jwt) {
        if (MODE === 'passthrough' && jwt.payload.aud === MCP_URL) {
          jwt.payload.aud = [MCP_URL, 'nextcloud'];
        }
      },
    },
  },
  // AccessToken's lifetime is each resource server's accessTokenTTL.
  ttl: { AuthorizationCode: 60, IdToken: 3600, RefreshToken: 86400, Grant: 86400, Interaction: 600, Session: 3600 },
  renderError(ctx, out) {
    ctx.type = 'text/plain; charset=utf-8';
    ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
  },
};

// verifySubject checks an RFC 8693 subject token: an access token of this
// provider for the MCP server (a JWT, checked with the provider's key, or
// an opaque one, looked up), live by this provider's clock. A refused
// token is invalid_grant, the code this deployment answers for a subject
// token that is expired, revoked or not for the requesting server.
async function verifySubject(provider, token) {
  if (token.split('.').length === 3) {
    try {
      const { payload } = await jose.jwtVerify(token, localKeys, { issuer: provider.issuer, typ: 'at+jwt' });
      const aud = [payload.aud].flat();
      if (!aud.includes(MCP_URL)) throw new errors.InvalidGrant('subject_token is not for this server');
      return { sub: payload.sub, scope: payload.scope ?? '' };
    } catch (e) {
      if (e instanceof errors.OIDCProviderError) throw e;
      throw new errors.InvalidGrant(e.code === 'ERR_JWT_EXPIRED' ? 'subject_token has expired' : 'subject_token is invalid');
    }
  }
  const at = await provider.AccessToken.find(token);
  if (!at || at.isExpired) throw new errors.InvalidGrant('subject_token is invalid, expired or revoked');
  const aud = [at.aud ?? at.resourceServer?.audience].flat();
  if (!aud.includes(MCP_URL)) throw new errors.InvalidGrant('subject_token is not for this server');
  return { sub: at.accountId, scope: at.scope ?? '' };
}

async function tokenExchange(ctx) {
  const { provider, client, params } = ctx.oidc;
  if (!params.subject_token) throw new errors.InvalidRequest('subject_token is required');
  if (params.subject_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  if (params.requested_token_type && params.requested_token_type !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  if (params.actor_token) throw new errors.InvalidRequest('delegation (actor_token) is not supported');
  // The target: Nextcloud, named by its resource or its client id.
  const audiences = [params.audience ?? []].flat();
  const resources = [params.resource ?? []].flat();
  for (const a of audiences) if (a !== 'nextcloud') throw new errors.InvalidTarget(`audience ${a} is not a target of this client`);
  for (const r of resources) if (r !== NEXTCLOUD_URL) throw new errors.InvalidTarget(`resource ${r} is not a target of this client`);
  if (audiences.length === 0 && resources.length === 0) throw new errors.InvalidTarget('name Nextcloud in audience or resource');
  const subject = await verifySubject(provider, params.subject_token);
  const info = resourceServer(NEXTCLOUD_URL, client);
  const allowed = new Set(info.scope.split(' '));
  let scope = subject.scope.split(' ').filter((s) => allowed.has(s));
  if (params.scope) {
    const asked = params.scope.split(' ');
    if (asked.some((s) => !scope.includes(s))) throw new errors.InvalidScope('the requested scope exceeds the subject token\'s');
    scope = asked;
  }
  const token = new provider.AccessToken({ accountId: subject.sub, client, gty: 'token_exchange', scope: scope.join(' ') || undefined });
  token.resourceServer = new provider.ResourceServer(NEXTCLOUD_URL, info);
  ctx.oidc.entity('AccessToken', token);
  const value = await token.save();
  ctx.body = {
    access_token: value, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer',
    expires_in: token.expiration, scope: token.scope,
  };
}

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const provider = new Provider(issuer, configuration);
if (EXCHANGE_ON) {
  provider.registerGrantType(EXCHANGE, tokenExchange,
    ['subject_token', 'subject_token_type', 'requested_token_type', 'audience', 'resource', 'scope', 'actor_token', 'actor_token_type'],
    ['audience', 'resource']);
}
provider.on('server_error', (ctx, err) => console.error('provider.mjs: server_error', err));
server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(JSON.stringify({ ready: true, issuer }));
