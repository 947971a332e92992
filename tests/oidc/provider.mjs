// A real OpenID Provider (panva's oidc-provider) for the integration tests, with a
// plain-HTTP control port on loopback through which a test tampers with the ID
// tokens the token endpoint hands out, delays endpoints and reads request counts.
//
//   node tests/oidc/provider.mjs CONFIG.json
//
// CONFIG.json (written by tests/oidc_provider.py):
//   issuer        "https://127.0.0.1:PORT"
//   port          TLS listen port (127.0.0.1)
//   control_port  plain-HTTP control port (127.0.0.1)
//   tls_cert, tls_key   PEM paths
//   keys_file     where the signing keys are kept across restarts (optional)
//   fresh_keys    true: ignore keys_file and make new keys
//   clients       [{client_id, client_secret, redirect_uris, post_logout_redirect_uris,
//                   token_endpoint_auth_method, id_token_signed_response_alg}]
//
// Never logs a password, code or token: only method, path (no query) and status.
import {
  createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual,
} from 'node:crypto';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

function log(line) {
  process.stderr.write(`op: ${line}\n`);
}

// ---- keys ------------------------------------------------------------------

async function privateJwk(alg, kid) {
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  return { ...(await jose.exportJWK(privateKey)), kid, use: 'sig' };
}

function publicJwk({ d, p, q, dp, dq, qi, ...pub }) {
  return pub;
}

// The published keys survive a restart (a relying party's cached JWKS stays
// right); the extra keys of the kid modes are made afresh at every start.
async function loadKeys() {
  if (config.keys_file && !config.fresh_keys && existsSync(config.keys_file)) {
    return JSON.parse(readFileSync(config.keys_file, 'utf8'));
  }
  // No `alg` on the RSA key: the provider signs both RS256 and PS256 with it.
  const keys = { rsa: await privateJwk('RS256', 'rsa-1'), ec: await privateJwk('ES256', 'ec-1') };
  if (config.keys_file) writeFileSync(config.keys_file, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

const keys = await loadKeys();
const extra = {
  'rsa-unknown': await privateJwk('RS256', 'rsa-unknown'),
  'ec-unknown': await privateJwk('ES256', 'ec-unknown'),
  'rsa-2': await privateJwk('RS256', 'rsa-2'),
  'ec-2': await privateJwk('ES256', 'ec-2'),
};
// The HMAC secret of hs256-pubkey: rsa-1's SPKI PEM as openssl writes it (64-column
// base64, a final newline), so a test can rebuild it from the JWKS alone.
const rsaPublicPem = createPublicKey({ key: publicJwk(keys.rsa), format: 'jwk' }).export({ type: 'spki', format: 'pem' });

// jose imports a key for one algorithm (a WebCrypto key is bound to it): one per (kid, alg).
const imported = new Map();
async function signingKey(jwk, alg) {
  const id = `${jwk.kid}/${alg}`;
  if (!imported.has(id)) imported.set(id, await jose.importJWK(jwk, alg));
  return imported.get(id);
}

// ---- accounts --------------------------------------------------------------

const ACCOUNTS = {
  mica: { sub: 'u-1001', password: 'mica-sso-pass', groups: ['dash-all'] },
  mike: { sub: 'u-1002', password: 'mike-sso-pass', groups: ['dash-marketing'] },
  nobody: { sub: 'u-1003', password: 'nobody-sso-pass', groups: ['unmapped-group'] },
};
const BY_SUB = new Map(Object.entries(ACCOUNTS).map(([login, a]) => [a.sub, { login, ...a }]));

function digest(s) {
  return createHash('sha256').update(String(s)).digest();
}

// Constant-time in the password; an unknown login costs the same comparison.
function checkPassword(login, password) {
  const account = Object.hasOwn(ACCOUNTS, login) ? ACCOUNTS[login] : undefined;
  const same = timingSafeEqual(digest(account ? account.password : 'no such account'), digest(password));
  return account && same ? account : undefined;
}

async function findAccount(_ctx, sub) {
  const account = BY_SUB.get(sub);
  if (!account) return undefined;
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        preferred_username: account.login,
        name: account.login,
        email: `${account.login}@example.test`,
        email_verified: true,
        groups: account.groups,
      };
    },
  };
}

// ---- pages -----------------------------------------------------------------

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1>
${body}
</body></html>`;
}

function loginPage(uid, error) {
  return page('Sign in', `${error ? `<p id="login-error" role="alert">${esc(error)}</p>\n` : ''}\
<form id="login-form" method="post" action="/interaction/${esc(encodeURIComponent(uid))}/login" autocomplete="off">
  <label>Login <input id="login" type="text" name="login" required autofocus></label>
  <label>Password <input id="password" type="password" name="password" required></label>
  <button id="login-submit" type="submit">Sign in</button>
</form>`);
}

async function logoutSource(ctx, form) {
  // The provider's form holds only the xsrf field; the confirming button goes inside it.
  const button = '<button id="logout-confirm" type="submit" name="logout" value="yes">Sign out</button>';
  ctx.body = page('Sign out', form.replace('</form>', `${button}</form>`));
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out', '<p id="logout-done">You are signed out.</p>');
}

async function renderError(ctx, out) {
  ctx.type = 'html';
  ctx.body = page('Error', `<p id="op-error">${esc(out.error)}: ${esc(out.error_description || '')}</p>`);
}

function readForm(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      body += chunk;
      if (body.length > 64 * 1024) reject(new Error('form too large'));
    });
    req.on('end', () => resolve(new URLSearchParams(body)));
    req.on('error', reject);
  });
}

// Login form, then consent granted without asking (the relying party is first-party).
async function interaction(ctx) {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
  if (!match) return false;
  const [, uid, login] = match;
  ctx.set('Cache-Control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    if (!(err instanceof errors.SessionNotFound)) throw err;
    ctx.status = 400;
    ctx.body = page('Error', '<p id="op-error">interaction expired or not found</p>');
    return true;
  }
  if (details.uid !== uid) {
    ctx.status = 400;
    ctx.body = page('Error', '<p id="op-error">interaction mismatch</p>');
    return true;
  }
  const { prompt, params, session, grantId } = details;
  let result;
  if (prompt.name === 'login') {
    if (!login || ctx.method !== 'POST') {
      ctx.body = loginPage(uid);
      return true;
    }
    const form = await readForm(ctx.req);
    const account = checkPassword(form.get('login') ?? '', form.get('password') ?? '');
    if (!account) {
      ctx.body = loginPage(uid, 'Invalid login or password.');
      return true;
    }
    result = { login: { accountId: account.sub } };
  } else if (prompt.name === 'consent') {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    for (const [indicator, scope] of Object.entries(d.missingResourceScopes || {})) {
      grant.addResourceScope(indicator, scope.join(' '));
    }
    result = { consent: { grantId: await grant.save() } };
  } else {
    ctx.status = 501;
    ctx.body = page('Error', `<p id="op-error">prompt ${esc(prompt.name)} not implemented</p>`);
    return true;
  }
  const returnTo = await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(returnTo);
  return true;
}

// ---- the provider ----------------------------------------------------------

const ROUTES = {
  authorization: '/auth',
  token: '/token',
  jwks: '/jwks',
  end_session: '/session/end',
  userinfo: '/me',
};

const provider = new Provider(config.issuer, {
  clients: config.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris,
    post_logout_redirect_uris: c.post_logout_redirect_uris || [],
    token_endpoint_auth_method: c.token_endpoint_auth_method || 'client_secret_basic',
    id_token_signed_response_alg: c.id_token_signed_response_alg || 'RS256',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  })),
  jwks: { keys: [keys.rsa, keys.ec] },
  findAccount,
  claims: {
    openid: ['sub'],
    profile: ['preferred_username', 'name'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  scopes: ['openid', 'profile', 'email', 'groups'],
  // The ID token carries the scopes' claims, so the relying party needs no userinfo call.
  conformIdTokenClaims: false,
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  pkce: { methods: ['S256'], required: () => true },
  routes: ROUTES,
  interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
  },
  renderError,
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  ttl: {
    AccessToken: 3600,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
});

provider.on('server_error', (_ctx, err) => log(`server_error ${err.message}`));

// ---- test controls ---------------------------------------------------------

const MODES = new Set([
  'off', 'none', 'hs256-pubkey', 'wrong-aud', 'extra-aud', 'extra-aud-azp', 'wrong-iss', 'expired',
  'future-iat', 'wrong-nonce', 'unknown-kid', 'rotated-kid', 'alg-kty-mismatch', 'resign',
]);
const state = { mode: 'off', tampered: 0, delays: {}, counts: {} };

function endpointOf(path) {
  if (path === '/.well-known/openid-configuration') return 'discovery';
  if (path.startsWith('/auth/')) return 'authorization_resume';
  if (path.startsWith('/interaction/')) return 'interaction';
  if (path === `${ROUTES.end_session}/confirm`) return 'end_session_confirm';
  const name = Object.keys(ROUTES).find((k) => ROUTES[k] === path);
  return name || 'other';
}

function resetCounts() {
  state.counts = { discovery: 0, jwks: 0, token: 0, authorization: 0, end_session: 0 };
}
resetCounts();

const b64 = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
const unb64 = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

async function sign(header, payload, jwk) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(await signingKey(jwk, header.alg));
}

// A key of the token's own family, so only the kid is wrong, never the algorithm.
function freshKey(header, rsaKid, ecKid) {
  return header.alg === 'ES256' ? extra[ecKid] : extra[rsaKid];
}

async function tamper(idToken, mode) {
  const [h, p] = idToken.split('.');
  const header = unb64(h);
  const payload = unb64(p);
  const clientId = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
  const own = header.alg === 'ES256' ? keys.ec : keys.rsa;
  const now = Math.floor(Date.now() / 1000);
  const { azp, ...noAzp } = payload;
  switch (mode) {
    case 'none':
      return `${b64({ alg: 'none' })}.${b64(payload)}.`;
    case 'hs256-pubkey': {
      const input = `${b64({ ...header, alg: 'HS256' })}.${b64(payload)}`;
      return `${input}.${createHmac('sha256', rsaPublicPem).update(input).digest('base64url')}`;
    }
    case 'wrong-aud':
      return sign(header, { ...payload, aud: 'someone-else' }, own);
    case 'extra-aud':
      return sign(header, { ...noAzp, aud: [clientId, 'someone-else'] }, own);
    case 'extra-aud-azp':
      return sign(header, { ...payload, aud: [clientId, 'someone-else'], azp: clientId }, own);
    case 'wrong-iss':
      return sign(header, { ...payload, iss: 'https://evil.example' }, own);
    case 'expired':
      return sign(header, { ...payload, exp: now - 3600, iat: now - 7200 }, own);
    case 'future-iat':
      return sign(header, { ...payload, iat: now + 3600 }, own);
    case 'wrong-nonce':
      return sign(header, { ...payload, nonce: 'forged' }, own);
    case 'unknown-kid': {
      const key = freshKey(header, 'rsa-unknown', 'ec-unknown');
      return sign({ ...header, kid: key.kid }, payload, key);
    }
    case 'rotated-kid': {
      const key = freshKey(header, 'rsa-2', 'ec-2');
      return sign({ ...header, kid: key.kid }, payload, key);
    }
    case 'alg-kty-mismatch':
      // A good ES256 signature by ec-1 under the RSA key's kid: only a relying
      // party that checks the kid's key type against alg refuses it.
      return sign({ ...header, alg: 'ES256', kid: keys.rsa.kid }, payload, keys.ec);
    case 'resign':
      return sign(header, payload, own);
    default:
      return idToken;
  }
}

const sleep = (s) => new Promise((resolve) => { setTimeout(resolve, s * 1000); });

provider.use(async (ctx, next) => {
  const started = Date.now();
  const endpoint = endpointOf(ctx.path);
  state.counts[endpoint] = (state.counts[endpoint] || 0) + 1;
  try {
    if (state.delays[endpoint]) await sleep(state.delays[endpoint]);
    if (!(await interaction(ctx))) await next();
    if (endpoint === 'token' && state.mode !== 'off' && ctx.status === 200 && typeof ctx.body?.id_token === 'string') {
      ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token, state.mode) };
      state.tampered += 1;
      log(`id_token tampered: ${state.mode}`);
    }
    if (endpoint === 'jwks' && state.mode === 'rotated-kid' && Array.isArray(ctx.body?.keys)) {
      ctx.body = { keys: [...ctx.body.keys, publicJwk(extra['rsa-2']), publicJwk(extra['ec-2'])] };
    }
  } finally {
    // An interaction's uid is its cookie's value: it stays out of the log.
    const path = ctx.path.replace(/^\/(interaction|auth)\/[^/]+/, '/$1/:uid');
    log(`${ctx.method} ${path} ${ctx.status} ${Date.now() - started}ms`);
  }
});

// ---- servers ---------------------------------------------------------------

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { text += chunk; });
    req.on('end', () => {
      try {
        resolve(text ? JSON.parse(text) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

const DELAYABLE = new Set(['discovery', 'jwks', 'token', 'authorization', 'end_session', 'userinfo']);

const controlServer = http.createServer(async (req, res) => {
  try {
    const route = `${req.method} ${req.url}`;
    const body = req.method === 'POST' ? await readJson(req) : {};
    switch (route) {
      case 'POST /mode':
        if (!MODES.has(body.mode)) return reply(res, 400, { error: `unknown mode ${body.mode}`, modes: [...MODES] });
        state.mode = body.mode;
        log(`mode ${state.mode}`);
        return reply(res, 200, { mode: state.mode });
      case 'GET /mode':
        return reply(res, 200, { mode: state.mode, tampered: state.tampered });
      case 'POST /reset':
        state.mode = 'off';
        state.delays = {};
        log('reset');
        return reply(res, 200, { mode: state.mode });
      case 'GET /counts':
        return reply(res, 200, state.counts);
      case 'POST /counts/reset':
        resetCounts();
        return reply(res, 200, state.counts);
      case 'POST /delay':
        if (!DELAYABLE.has(body.path) || typeof body.seconds !== 'number' || !(body.seconds >= 0)) {
          return reply(res, 400, { error: 'want {"path": one of ' + [...DELAYABLE].join('|') + ', "seconds": N >= 0}' });
        }
        state.delays[body.path] = body.seconds;
        log(`delay ${body.path} ${body.seconds}s`);
        return reply(res, 200, state.delays);
      default:
        return reply(res, 404, { error: `no ${route}` });
    }
  } catch (err) {
    return reply(res, 400, { error: err.message });
  }
});

const tls = { cert: readFileSync(config.tls_cert), key: readFileSync(config.tls_key) };
const server = https.createServer(tls, provider.callback());

await Promise.all([
  new Promise((resolve) => { server.listen(config.port, '127.0.0.1', resolve); }),
  new Promise((resolve) => { controlServer.listen(config.control_port, '127.0.0.1', resolve); }),
]);
log(`listening ${config.issuer} (control http://127.0.0.1:${config.control_port})`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    controlServer.close();
    process.exit(0);
  });
}
