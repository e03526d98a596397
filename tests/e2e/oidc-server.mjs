#!/usr/bin/env node
// A real OpenID Connect provider (panva/oidc-provider) for the Rust integration tests.
//
// Env: OIDC_PORT (0 = any free port), OIDC_CLIENT_ID, OIDC_CLIENT_SECRET,
//      OIDC_REDIRECT_URI (exact match), OIDC_ACCESS_TOKEN_TTL (seconds, default 3600),
//      OIDC_ROTATE_REFRESH_TOKEN (1 = every refresh returns a new refresh token and
//      consumes the old one, the default; 0 = the same refresh token comes back),
//      OIDC_EXIT_ON_STDIN_CLOSE (1 = exit when stdin closes, the default; 0 = don't).
// Stdout: exactly one JSON line with the endpoints once listening; all logs go to stderr.
import crypto from 'node:crypto';
import http from 'node:http';

// oidc-provider prints its NOTICEs with console.info, i.e. on stdout. Stdout is the
// contract, so every console method goes to stderr; the ready line uses process.stdout.
console.log = console.info = console.debug = (...args) => console.error(...args);

function fail(message) {
  console.error(`oidc-server: ${message}`);
  process.exit(2);
}

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) fail(`${name} must be set`);
  return value;
}

function intEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) fail(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const flagEnv = (name, fallback) => {
  const raw = process.env[name];
  return raw === undefined || raw === '' ? fallback : !['0', 'false', 'no'].includes(raw.toLowerCase());
};

const port = intEnv('OIDC_PORT', 0, 0);
const clientId = requiredEnv('OIDC_CLIENT_ID');
const clientSecret = requiredEnv('OIDC_CLIENT_SECRET');
const redirectUri = requiredEnv('OIDC_REDIRECT_URI');
const accessTokenTtl = intEnv('OIDC_ACCESS_TOKEN_TTL', 3600, 1);
const rotateRefreshToken = flagEnv('OIDC_ROTATE_REFRESH_TOKEN', true);
const exitOnStdinClose = flagEnv('OIDC_EXIT_ON_STDIN_CLOSE', true);
try {
  new URL(redirectUri);
} catch {
  fail(`OIDC_REDIRECT_URI is not an absolute URL: ${redirectUri}`);
}

// Imported only now, after the console is redirected and the env is known to be sane.
const { default: Provider } = await import('oidc-provider');

// Listen first: with OIDC_PORT=0 the issuer URL is known only after bind.
let handler = (req, res) => { res.statusCode = 503; res.end(); };
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// A fresh signing key per run (otherwise oidc-provider falls back to a published dev key).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

// "alice" -> { sub: "alice", name: "Alice Example", email: "alice@example.test", ... }
async function findAccount(_ctx, id) {
  return {
    accountId: id,
    async claims() {
      const name = `${id.charAt(0).toUpperCase()}${id.slice(1)} Example`;
      return { sub: id, name, email: `${id}@example.test`, preferred_username: id };
    },
  };
}

const day = 24 * 60 * 60;
const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    // oidc-provider accepts client_secret_post as well for a client registered like this.
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  findAccount,
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'] },
  // PKCE on every request; oidc-provider itself only supports S256.
  pkce: { required: () => true },
  // The token request must carry redirect_uri (the authorize request may omit it:
  // with one registered URI the provider fills it in).
  allowOmittingSingleRegisteredRedirectUri: false,
  // Refresh tokens for this client whatever the scope: without prompt=consent the
  // provider silently drops offline_access, and that must not matter here.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  expiresWithSession: async () => false,
  rotateRefreshToken: () => rotateRefreshToken,
  features: {
    devInteractions: { enabled: true }, // oidc-provider's own login and consent pages
    userinfo: { enabled: true },
    revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
    introspection: { enabled: true, allowedPolicy: async () => true },
  },
  // Expired means expired: the default 15 s of tolerance would keep a short-lived
  // access token working at userinfo well past its expires_in.
  clockTolerance: 0,
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    RefreshToken: 14 * day,
    Interaction: 3600,
    Session: day,
    Grant: 14 * day,
  },
});

// Logs on stderr: method, path (no query string: it may carry codes) and status; OAuth
// errors by name and description. No token, code or secret is ever printed.
provider.use(async (ctx, next) => {
  await next();
  console.error(`oidc-server: ${ctx.method} ${ctx.path} -> ${ctx.status}`);
});
for (const event of ['authorization.error', 'grant.error', 'userinfo.error', 'revocation.error',
  'introspection.error', 'server_error']) {
  provider.on(event, (_ctx, err) => {
    // error_detail names the cause, e.g. "refresh token already used" (a replay).
    const detail = err.error_detail ? ` (${err.error_detail})` : '';
    console.error(`oidc-server: ${event}: ${err.error ?? err.name}: ${err.error_description ?? err.message}${detail}`);
  });
}

handler = provider.callback();

// Announce the endpoints, taken from the provider's own discovery document.
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const keys = ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint',
  'revocation_endpoint', 'introspection_endpoint'];
for (const key of keys) if (!discovery[key]) fail(`discovery document lacks ${key}`);
process.stdout.write(`${JSON.stringify(Object.fromEntries(keys.map((k) => [k, discovery[k]])))}\n`);

let stopping = false;
function shutdown(why) {
  if (stopping) return;
  stopping = true;
  console.error(`oidc-server: stopping (${why})`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
if (exitOnStdinClose) {
  // The parent test holds our stdin; when it dies, stdin closes and we go too.
  process.stdin.on('end', () => shutdown('stdin closed'));
  process.stdin.on('close', () => shutdown('stdin closed'));
  process.stdin.on('error', () => shutdown('stdin error'));
  process.stdin.resume();
}
