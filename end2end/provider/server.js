// A local OpenID Connect provider shaped like Authgear, built on `oidc-provider`
// (OpenID Certified). The app's default when no AUTHGEAR_* settings are given, and the
// provider the end-to-end tests run against.
//
// Like Authgear: endpoints under /oauth2/*, an issuer without a trailing slash, `aud` as a JSON
// array, Authgear's custom claims, client_secret_post, a refresh token for `offline_access`
// without a consent screen (first-party client), the app session token that opens the settings
// page signed in (app-session.js), and Email + one-time-code login — the method
// Authgear's Flask guide picks. The code is shown on the page (development only) and printed on
// the console; DEMO_OTP_CODE fixes it for tests.
//
// Settings (environment): PROVIDER_PORT (4000), PROVIDER_ISSUER (http://127.0.0.1:<port>; kept
// exactly as written: a path, as Keycloak's /realms/<name>, mounts the provider there, and a
// trailing slash stays in `iss`),
// APP_URL (http://localhost:3000), DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_OTP_CODE,
// ACCESS_TOKEN_TTL (seconds, 1800), ROTATE_REFRESH_TOKENS (1 to rotate; Authgear's default is off),
// PROVIDER_TEST_HOOKS (1 to enable /__test/*), EXTRA_APP_URLS (comma-separated: more app
// instances whose /callback and / are registered too), WEBHOOK_URL and WEBHOOK_SECRET (where and
// how Authgear-shaped webhooks are sent; unset: none).

import crypto from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import { CompactSign } from 'jose';
import Provider from 'oidc-provider';
import { appSessionTokens, FULL_ACCESS } from './app-session.js';
import { hostileMode } from './hostile.js';
import {
  codePage, emailPage, escape, languageOf, page, readBody, readForm, send,
} from './pages.js';
import { accountPages } from './account.js';
import { webhooks } from './webhooks.js';

dns.setDefaultResultOrder('ipv4first');

const env = process.env;
const port = Number(env.PROVIDER_PORT || 4000);
// 127.0.0.1 rather than localhost: a host of its own, as Authgear has, so that its cookies
// and the app's (on localhost) never mix.
const issuer = env.PROVIDER_ISSUER || `http://127.0.0.1:${port}`;
// Where the OpenID endpoints are mounted: the issuer's path ('' for none). The sign-in pages
// stay at the root, as oidc-provider's interaction URLs are.
const mountPath = new URL(issuer).pathname.replace(/\/$/, '');
const appUrl = (env.APP_URL || 'http://localhost:3000').replace(/\/$/, '');
const appUrls = [appUrl, ...(env.EXTRA_APP_URLS || '').split(',').filter(Boolean)]
  .map((url) => url.replace(/\/$/, ''));
const clientId = env.DEMO_CLIENT_ID || 'demo-client';
const clientSecret = env.DEMO_CLIENT_SECRET || 'demo-client-secret-for-local-use-only';
const fixedCode = env.DEMO_OTP_CODE || '';
// What tests may change while the provider runs (see the test hooks below).
const settings = {
  accessTokenTtl: Number(env.ACCESS_TOKEN_TTL || 1800),
  // Authgear's default is off: the same refresh token stays valid.
  rotateRefreshTokens: env.ROTATE_REFRESH_TOKENS === '1',
  // When true, /oauth2/* connections are dropped, as if the provider were down.
  outage: false,
  // When true, a refused refresh (invalid_grant) is answered with an empty 400, as one
  // OpenID-certified provider does, instead of RFC 6749's JSON error.
  emptyRefreshErrors: false,
  // Seconds a login is dated back (its `auth_time`): a step-up test's "signed in an hour ago".
  loginAge: 0,
};

const CLAIM = 'https://authgear.com/claims/user/';
const AUTHGEAR_CLAIMS = ['is_anonymous', 'is_verified', 'can_reauthenticate', 'roles'].map((c) => CLAIM + c);

// Accounts, by email. Email + passwordless users have no name, as on Authgear.
const accounts = new Map();
function accountFor(email) {
  if (!accounts.has(email)) {
    const hash = crypto.createHash('sha256').update(email).digest('hex');
    const sub = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${hash.slice(20, 32)}`;
    accounts.set(email, { sub, email });
  }
  return accounts.get(email);
}
function accountBySub(sub) {
  return [...accounts.values()].find((account) => account.sub === sub);
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    // Apps with the login's routes at the root, or under /auth (examples/minimal).
    redirect_uris: appUrls.flatMap((url) => [`${url}/callback`, `${url}/auth/callback`]),
    post_logout_redirect_uris: appUrls.map((url) => `${url}/`),
    // Authgear has no back-channel logout; this provider sends it, as others do.
    backchannel_logout_uri: `${appUrl}/backchannel-logout`,
    backchannel_logout_session_required: true,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    // Older Authgear releases accept only client_secret_post from a confidential client.
    token_endpoint_auth_method: 'client_secret_post',
    // Authgear's ID tokens always carry auth_time (shared/reference/authgear.md), not only when
    // max_age is asked: a step-up compares with it.
    require_auth_time: true,
  }],
  clientAuthMethods: ['none', 'client_secret_post', 'client_secret_basic'],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  routes: {
    authorization: '/oauth2/authorize',
    token: '/oauth2/token',
    userinfo: '/oauth2/userinfo',
    end_session: '/oauth2/end_session',
    revocation: '/oauth2/revoke',
    jwks: '/oauth2/jwks',
  },
  // The full-access scope: this client may have it, as Authgear's first-party application
  // types may (app-session.js).
  scopes: ['openid', 'offline_access', 'email', 'profile', FULL_ACCESS],
  // Authgear gives first-party clients the user's attributes and its custom claims with
  // `openid` alone.
  claims: {
    openid: ['sub', 'email', 'email_verified', ...AUTHGEAR_CLAIMS],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  // Authgear's parameter to open the sign-up page (`x_page=signup`).
  extraParams: ['x_page'],
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    backchannelLogout: { enabled: true },
  },
  ttl: {
    AccessToken: () => settings.accessTokenTtl,
    AuthorizationCode: 300,
    IdToken: 300,
    RefreshToken: 364 * 24 * 60 * 60,
    Interaction: 600,
    Session: 24 * 60 * 60,
    Grant: 364 * 24 * 60 * 60,
  },
  rotateRefreshToken: () => settings.rotateRefreshTokens,
  // oidc-provider refuses outgoing requests to loopback addresses (SSRF protection); the app
  // it posts back-channel logouts to is on loopback here.
  fetch(url, options) {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  async findAccount(ctx, sub) {
    const account = accountBySub(sub);
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: account.email,
          email_verified: true,
          [`${CLAIM}is_anonymous`]: false,
          [`${CLAIM}is_verified`]: true,
          [`${CLAIM}can_reauthenticate`]: true,
          [`${CLAIM}roles`]: [],
        };
      },
    };
  },
  async renderError(ctx, out, error) {
    console.error('[local provider] error page:', out.error, out.error_description, error?.message ?? '');
    ctx.type = 'html';
    ctx.body = page('Error', `<h1>Something went wrong</h1><pre>${escape(JSON.stringify(out, null, 2))}</pre>`);
  },
});

// Authgear's `sid`: base64url_no_padding("<type>:<id>") of its session (`pkg/lib/oauth/sid.go`);
// here every provider session is an `idp` session whose id is oidc-provider's stable `uid`.
export function authgearSid(uid) {
  return Buffer.from(`idp:${uid}`).toString('base64url');
}
provider.Session.prototype.ensureClientContainer = function ensureClientContainer(clientId) {
  if (!this.sidFor(clientId)) this.sidFor(clientId, authgearSid(this.uid));
};

// Authgear's webhooks: events signed with the webhook secret (webhooks.js), and the provider
// sessions they name, by uid.
const hooks = webhooks({ url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET, clientId });
const liveSessions = new Map(); // uid -> { uid, id, accountId, grantIds, createdAt }
provider.on('authorization.success', (ctx) => {
  const { session } = ctx.oidc;
  if (!session?.accountId) return;
  const grantIds = Object.values(session.authorizations || {}).map((a) => a.grantId).filter(Boolean);
  const known = liveSessions.get(session.uid);
  liveSessions.set(session.uid, {
    uid: session.uid, id: session.id, accountId: session.accountId, grantIds, createdAt: known?.createdAt ?? Date.now(),
  });
});
// A logout through the app (RP-initiated) signs the user out, and Authgear says so.
provider.on('end_session.success', (ctx) => {
  const { session } = ctx.oidc;
  const live = session && liveSessions.get(session.uid);
  if (!live) return;
  liveSessions.delete(live.uid);
  hooks.send('user.signed_out', { user: { id: live.accountId }, sessions: [sessionObject(live)] });
});

// The settings page opened signed in with an app session token (app-session.js): a provider
// session like a login's.
const appSessions = appSessionTokens({
  provider,
  issuer,
  clientId,
  onSignIn(session) {
    liveSessions.set(session.uid, {
      uid: session.uid, id: session.id, accountId: session.accountId, grantIds: [], createdAt: Date.now(),
    });
  },
});

function sessionObject(live) {
  return { id: live.uid, type: 'idp', display_name: 'Browser', created_at: new Date(live.createdAt).toISOString() };
}

/** Ends provider sessions: their records and grants (refresh tokens) go. */
async function endSessions(sessions) {
  for (const live of sessions) {
    liveSessions.delete(live.uid);
    await provider.Session.adapter.destroy(live.id);
    for (const grantId of live.grantIds) {
      await provider.RefreshToken.revokeByGrantId(grantId);
      await provider.AccessToken.revokeByGrantId(grantId);
      await provider.Grant.adapter.destroy(grantId);
    }
  }
}

function sessionsOf(accountId) {
  return [...liveSessions.values()].filter((live) => live.accountId === accountId);
}

// Authgear puts `aud` in ID tokens as a JSON array; oidc-provider writes a string.
const issueToken = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = async function issue(options = {}) {
  if (options.use !== 'idtoken') return issueToken.call(this, options);
  const client = this.client;
  this.client = new Proxy(client, {
    get(target, property) {
      if (property === 'clientId') return [target.clientId];
      const value = target[property];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  try {
    return await issueToken.call(this, options);
  } finally {
    this.client = client;
  }
};

// ...and, like Authgear, accepts such an ID token as `id_token_hint` at the end-session endpoint,
// where oidc-provider looks the client up by `aud` (expecting a string).
const findClient = provider.Client.find.bind(provider.Client);
provider.Client.find = (id, ...rest) => findClient(Array.isArray(id) && id.length === 1 ? id[0] : id, ...rest);

// OpenID Connect drops `offline_access` unless the request carries prompt=consent. Authgear
// issues refresh tokens to first-party clients without that, so add it here; the consent step
// itself is granted without a screen (see `finish`).
provider.use(async (ctx, next) => {
  if (ctx.path === '/oauth2/authorize') {
    const query = { ...ctx.query };
    const scopes = String(query.scope || '').split(' ');
    const prompts = String(query.prompt || '').split(' ').filter(Boolean);
    if (scopes.includes('offline_access') && !prompts.includes('consent') && !prompts.includes('none')) {
      query.prompt = [...prompts, 'consent'].join(' ');
      ctx.query = query;
    }
  }
  await next();
});

// --- Email + one-time code login ------------------------------------------------------------

const pendingCodes = new Map(); // interaction uid -> { email, code, attempts }

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');

  if (details.prompt.name !== 'login') {
    // Consent for a first-party client is granted without asking, as Authgear does. No login
    // happened: the session's auth_time stays when the user last authenticated (`max_age`,
    // honoured as Authgear does by oidc-provider's own login prompt, compares with it).
    return finish(req, res, details, details.session.accountId, { authenticated: false });
  }

  // Authgear's `x_page=signup` opens the sign-up page; with passwordless email it asks the
  // same question, so only the wording differs.
  const signup = details.params.x_page === 'signup';
  const lang = languageOf(details.params.ui_locales);
  if (req.method === 'GET' && !action) {
    return send(res, 200, emailPage(uid, '', signup, lang));
  }
  const form = await readForm(req);
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied',
      error_description: 'The user cancelled the sign-in.',
    }, { mergeWithLastSubmission: false });
  }
  if (action === 'email') {
    const email = String(form.get('email') || '').trim().toLowerCase();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      return send(res, 400, emailPage(uid, 'Enter a valid email address.', signup, lang));
    }
    const code = fixedCode || String(crypto.randomInt(0, 1_000_000)).padStart(6, '0');
    pendingCodes.set(uid, { email, code, attempts: 0 });
    console.log(`[local provider] one-time code for ${email}: ${code}`);
    return send(res, 200, codePage(uid, email, code, '', lang));
  }
  if (action === 'code') {
    const pending = pendingCodes.get(uid);
    if (!pending) return send(res, 400, emailPage(uid, 'Start again: enter your email.', signup, lang));
    const entered = String(form.get('code') || '').trim();
    if (entered !== pending.code) {
      pending.attempts += 1;
      if (pending.attempts >= 5) {
        pendingCodes.delete(uid);
        return send(res, 400, emailPage(uid, 'Too many wrong codes. Start again.', signup, lang));
      }
      return send(res, 400, codePage(uid, pending.email, pending.code, 'That code is not right.', lang));
    }
    pendingCodes.delete(uid);
    return finish(req, res, details, accountFor(pending.email).sub);
  }
  return send(res, 404, page('Not found', '<h1>Not found</h1>'));
}

async function finish(req, res, details, accountId, { authenticated = true } = {}) {
  const { params } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope || 'openid'));
  const grantId = await grant.save();
  // `settings.loginAge` (a test hook) dates the login back, as if the user had signed in that
  // many seconds ago: for step-up tests, without waiting.
  const login = authenticated
    ? { login: { accountId, ts: Math.floor(Date.now() / 1000) - settings.loginAge } }
    : {};
  return provider.interactionFinished(req, res, {
    ...login,
    consent: { grantId },
  }, { mergeWithLastSubmission: false });
}

async function logoutSource(ctx, form) {
  // Authgear ends the session without a question when the ID token hint matches; submit the
  // provider's confirmation form straight away (the button stays for browsers without JS).
  ctx.body = page('Signing out', `
    <h1>Signing out…</h1>
    ${form}
    <button type="submit" form="op.logoutForm" name="logout" value="yes" id="confirmLogout">Sign out</button>
    <script>document.getElementById('confirmLogout').click()</script>`);
}

async function postLogoutSuccessSource(ctx) {
  ctx.body = page('Signed out', '<h1>You are signed out</h1>');
}

// Logout by POST and the settings page (account.js).
const { endSessionByPost, settingsPage } = accountPages({
  provider, issuer, clientId, appUrls, privateKey, liveSessions, authgearSid, endSessions, sessionsOf,
  sessionObject, accountBySub, hooks,
});

// --- Test hooks (PROVIDER_TEST_HOOKS=1 only) -------------------------------------------------

// The last token response, so that tests can prove no token string reaches the browser, how
// many refresh grants were served, and how many requests (bench/run: none during page views).
let lastTokens = null;
let refreshGrants = 0;
let requestsServed = 0;
provider.on('grant.success', (ctx) => {
  const { access_token, refresh_token, id_token } = ctx.body || {};
  lastTokens = { access_token, refresh_token, id_token };
  if (ctx.oidc.params.grant_type === 'refresh_token') refreshGrants += 1;
});

// Misbehaviour on request (hostile.js), for the tests that the app refuses each.
const hostile = hostileMode({
  signingKey,
  privateKey,
  onTokens: ({ access_token, refresh_token, id_token }) => {
    lastTokens = { access_token, refresh_token, id_token };
  },
});
if (env.PROVIDER_TEST_HOOKS === '1') provider.use(hostile.middleware);
provider.use(async (ctx, next) => {
  await next();
  if (settings.emptyRefreshErrors && ctx.path === '/oauth2/token' && ctx.status === 400
    && ctx.oidc?.params?.grant_type === 'refresh_token') {
    ctx.body = ''; // The status stays 400 (set explicitly by the error handler).
    ctx.remove('Content-Type');
  }
});

async function testHook(req, res) {
  const json = (value) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  if (req.url === '/__test/last-tokens') return json(lastTokens);
  if (req.url === '/__test/stats') return json({ refresh_grants: refreshGrants, requests: requestsServed });
  if (req.url === '/__test/sign' && req.method === 'POST') {
    // Signs { header?, claims } with the provider's own key, for hostile-token tests.
    const { header = {}, claims } = JSON.parse(await readBody(req));
    const jwt = await new CompactSign(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'RS256', kid: signingKey.kid, ...header })
      .sign(privateKey);
    return json({ jwt, issuer, clientId });
  }
  if (req.url === '/__test/admin' && req.method === 'POST') {
    // An admin in Authgear's portal: { action: 'disable' | 'delete' | 'terminate-all', email }.
    const { action, email } = JSON.parse(await readBody(req));
    const account = accounts.get(String(email).toLowerCase());
    if (!account) return send(res, 404, 'no such user');
    const sessions = sessionsOf(account.sub);
    await endSessions(sessions);
    const user = { id: account.sub };
    if (action === 'disable') hooks.send('user.disabled', { user }, 'admin_api');
    else if (action === 'delete') {
      accounts.delete(account.email);
      hooks.send('user.deleted', { user }, 'admin_api');
    } else if (action === 'terminate-all') {
      hooks.send('user.session.terminated', { user, sessions: sessions.map(sessionObject), termination_type: 'all' }, 'admin_api');
    } else return send(res, 400, 'unknown action');
    return json({ ended: sessions.length });
  }
  if (req.url === '/__test/webhooks') return json(hooks.deliveries());
  if (req.url === '/__test/webhooks/redeliver' && req.method === 'POST') {
    // Delivers an earlier event again, as Authgear retries: { index }.
    const { index } = JSON.parse(await readBody(req));
    return json(await hooks.redeliver(Number(index)));
  }
  if (req.url === '/__test/settings' && req.method === 'POST') {
    // { accessTokenTtl?, rotateRefreshTokens?, outage?, emptyRefreshErrors?, loginAge?,
    //   resetStats?, hostile? }
    const body = JSON.parse((await readBody(req)) || '{}');
    if (body.accessTokenTtl) settings.accessTokenTtl = Number(body.accessTokenTtl);
    if (typeof body.rotateRefreshTokens === 'boolean') settings.rotateRefreshTokens = body.rotateRefreshTokens;
    if (typeof body.outage === 'boolean') settings.outage = body.outage;
    if (typeof body.emptyRefreshErrors === 'boolean') settings.emptyRefreshErrors = body.emptyRefreshErrors;
    if ('loginAge' in body) settings.loginAge = Math.max(0, Number(body.loginAge) || 0);
    if (body.resetStats) refreshGrants = 0;
    if ('hostile' in body) hostile.set(body.hostile);
    return json({ ...settings, hostile: hostile.mode, refresh_grants: refreshGrants });
  }
  return send(res, 404, page('Not found', '<h1>Not found</h1>'));
}

// --- Server ---------------------------------------------------------------------------------

const oidc = provider.callback();
const server = http.createServer((req, res) => {
  if (env.PROVIDER_TEST_HOOKS === '1' && req.url.startsWith('/__test/')) {
    return testHook(req, res).catch((error) => send(res, 400, escape(error.message)));
  }
  requestsServed += 1;
  // Mounted under the issuer's path, as Express's `app.use(path, …)` would (oidc-provider
  // builds its URLs from `originalUrl`).
  if (mountPath && (req.url === mountPath || req.url.startsWith(`${mountPath}/`) || req.url.startsWith(`${mountPath}?`))) {
    req.originalUrl = req.url;
    req.url = req.url.slice(mountPath.length) || '/';
  }
  if (req.url === '/favicon.ico') return res.writeHead(204).end();
  if (req.url === '/settings' || req.url.startsWith('/settings/')) {
    return settingsPage(req, res).catch((error) => send(res, 400, page('Error', `<h1>${escape(error.message)}</h1>`)));
  }
  if (settings.outage && req.url.startsWith('/oauth2/')) return req.socket.destroy();
  if (req.method === 'POST' && req.url === '/oauth2/app_session_token') {
    return readBody(req).then((body) => appSessions.exchange(req, res, body))
      .catch((error) => send(res, 400, escape(error.message)));
  }
  if (req.method === 'GET' && appSessions.isSignIn(req.url)) {
    return appSessions.signIn(req, res).catch((error) => send(res, 400, page('Error', `<h1>${escape(error.message)}</h1>`)));
  }
  if (req.method === 'POST' && req.url.split('?')[0] === '/oauth2/end_session') {
    return endSessionByPost(req, res).catch((error) => send(res, 400, page('Error', `<h1>${escape(error.message)}</h1>`)));
  }
  const match = /^\/interaction\/([\w-]+)(?:\/(email|code|abort))?\/?(?:\?.*)?$/.exec(req.url);
  if (!match) return oidc(req, res);
  const [, uid, action] = match;
  if ((req.method === 'GET') !== !action) {
    return send(res, 405, page('Not allowed', '<h1>Method not allowed</h1>'));
  }
  interaction(req, res, uid, action).catch((error) => {
    console.error('[local provider] interaction failed:', error.message);
    if (!res.headersSent) send(res, 400, page('Error', `<h1>Sign-in failed</h1><p>${escape(error.message)}</p>`));
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`[local provider] ${issuer} is ready (client_id ${clientId})`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
