// Authgear's app session token, which its SDKs use to open the settings page already signed in
// (authgear-server `pkg/lib/oauth/handler/handler_token.go` `IssueAppSessionToken`, and
// `login_hint` of type `app_session_token` at the authorization endpoint):
//
// 1. POST /oauth2/app_session_token {"refresh_token"} -> {"result": {"app_session_token",
//    "expire_at"}}, only for a grant with the full-access scope (else `access_denied`).
// 2. GET /oauth2/authorize?response_type=none&prompt=none&redirect_uri=<origin>/settings
//    &login_hint=https://authgear.com/login_hint?type=app_session_token&app_session_token=…
//    signs the browser in (a provider session, no page) and redirects to the settings page.
//    The token is good once, for five minutes.

import crypto from 'node:crypto';

export const FULL_ACCESS = 'https://authgear.com/scopes/full-access';
const HINT = 'https://authgear.com/login_hint';
const TTL_MS = 5 * 60 * 1000;
const SESSION_TTL_S = 24 * 60 * 60;

export function appSessionTokens({ provider, issuer, clientId, onSignIn }) {
  const origin = new URL(issuer).origin;
  const issued = new Map(); // token -> { accountId, expiresAt }

  function answer(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  }
  // Authgear's API error shape.
  function refuse(res, status, reason, message) {
    answer(res, status, { error: { name: status === 403 ? 'Forbidden' : 'Invalid', reason, message, code: status } });
  }

  async function exchange(req, res, body) {
    let refreshToken;
    try {
      refreshToken = JSON.parse(body).refresh_token;
    } catch {
      // Handled below.
    }
    if (typeof refreshToken !== 'string' || !refreshToken) {
      return refuse(res, 400, 'ValidationFailed', 'refresh_token is required');
    }
    const token = await provider.RefreshToken.find(refreshToken);
    if (!token || !token.isValid || token.clientId !== clientId) {
      return refuse(res, 400, 'invalid_grant', 'invalid refresh token');
    }
    if (!String(token.scope || '').split(' ').includes(FULL_ACCESS)) {
      return refuse(res, 403, 'access_denied', 'the client is not authorized to have full user access');
    }
    const value = crypto.randomBytes(24).toString('base64url');
    const expiresAt = Date.now() + TTL_MS;
    issued.set(value, { accountId: token.accountId, expiresAt });
    return answer(res, 200, { result: { app_session_token: value, expire_at: new Date(expiresAt).toISOString() } });
  }

  /** Whether `url` (a request's, path and query) is a sign-in with an app session token. */
  function isSignIn(url) {
    if (url.split('?')[0] !== '/oauth2/authorize') return false;
    const hint = new URL(url, origin).searchParams.get('login_hint') || '';
    return hint.startsWith(`${HINT}?`);
  }

  async function signIn(req, res) {
    const params = new URL(req.url, origin).searchParams;
    const hint = new URL(params.get('login_hint')).searchParams;
    const value = hint.get('app_session_token') || '';
    const entry = issued.get(value);
    issued.delete(value); // One use, whatever happens next.
    const problem = hint.get('type') !== 'app_session_token' ? 'login_hint is not an app session token'
      : params.get('client_id') !== clientId ? 'unknown client'
        : params.get('response_type') !== 'none' ? 'response_type must be none'
          : params.get('prompt') !== 'none' ? 'prompt must be none'
            : params.get('redirect_uri') !== `${origin}/settings` ? 'redirect_uri must be the settings page'
              : !String(params.get('scope') || '').split(' ').includes(FULL_ACCESS) ? 'the full-access scope is required'
                : !entry || entry.expiresAt < Date.now() ? 'the app session token is invalid or used'
                  : '';
    if (problem) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(`invalid_request: ${problem}`);
    }
    // A provider session for the token's user, as a login makes, without a page.
    const ctx = provider.createContext(req, res);
    const session = await provider.Session.get(ctx);
    session.resetIdentifier();
    session.loginAccount({ accountId: entry.accountId, loginTs: Math.floor(Date.now() / 1000) });
    await session.save(SESSION_TTL_S);
    ctx.cookies.set(provider.cookieName('session'), session.id, {
      httpOnly: true, sameSite: 'lax', maxAge: SESSION_TTL_S * 1000,
    });
    onSignIn(session);
    res.writeHead(302, { location: params.get('redirect_uri'), 'cache-control': 'no-store' });
    return res.end();
  }

  return { exchange, isSignIn, signIn };
}
