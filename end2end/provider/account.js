// Authgear's account pages as this provider has them: logout by POST (the session the ID token
// hint names), and the settings page, where a user sees and ends their sessions. Built around
// the provider's own session bookkeeping (server.js).

import crypto from 'node:crypto';
import { compactVerify } from 'jose';
import {
  escape, page, readForm, send,
} from './pages.js';

export function accountPages({
  provider, issuer, clientId, appUrls, privateKey, liveSessions, authgearSid, endSessions, sessionsOf,
  sessionObject, accountBySub, hooks,
}) {
  const publicKey = crypto.createPublicKey(privateKey);
  // --- Logout by POST, as Authgear does it -------------------------------------------------------

  // A cross-site POST carries no SameSite=Lax cookie, so the session to end is the one the ID token
  // hint names (its `sid`); with a valid hint from the client, Authgear ends it without a question
  // and sends the browser to the registered post-logout redirect URI.
  async function endSessionByPost(req, res) {
    const form = await readForm(req);
    const hint = String(form.get('id_token_hint') || '');
    let claims;
    try {
      claims = JSON.parse(Buffer.from((await compactVerify(hint, publicKey)).payload).toString());
    } catch {
      throw new Error('A valid id_token_hint is required.');
    }
    const audience = [].concat(claims.aud);
    if (claims.iss !== issuer || !audience.includes(clientId)) throw new Error('The id_token_hint is not for this client.');
    const live = [...liveSessions.values()].find((session) => authgearSid(session.uid) === claims.sid);
    if (live) {
      await endSessions([live]);
      hooks.send('user.signed_out', { user: { id: live.accountId }, sessions: [sessionObject(live)] });
    }
    const back = String(form.get('post_logout_redirect_uri') || '');
    if (!appUrls.some((url) => back === `${url}/`)) {
      return send(res, 200, page('Signed out', '<h1>You are signed out</h1>'));
    }
    const target = new URL(back);
    if (form.get('state')) target.searchParams.set('state', String(form.get('state')));
    res.writeHead(303, { location: target.toString(), 'cache-control': 'no-store' });
    return res.end();
  }

  // --- Account settings: Authgear's settings page, where a user sees and ends sessions ----------

  async function settingsPage(req, res) {
    const session = await provider.Session.get(provider.createContext(req, res));
    const current = session.accountId ? liveSessions.get(session.uid) : undefined;
    if (req.method === 'POST' && current) {
      const form = await readForm(req);
      const user = { id: current.accountId };
      if (req.url === '/settings/sign-out') {
        // The user signs out of this browser at Authgear.
        await endSessions([current]);
        hooks.send('user.signed_out', { user, sessions: [sessionObject(current)] });
      } else if (req.url === '/settings/revoke') {
        const target = liveSessions.get(String(form.get('session')));
        if (target && target.accountId === current.accountId) {
          await endSessions([target]);
          hooks.send('user.session.terminated', { user, sessions: [sessionObject(target)], termination_type: 'individual' });
        }
      } else if (req.url === '/settings/revoke-others') {
        const others = sessionsOf(current.accountId).filter((live) => live.uid !== current.uid);
        await endSessions(others);
        hooks.send('user.session.terminated', { user, sessions: others.map(sessionObject), termination_type: 'all_except_current' });
      }
      res.writeHead(303, { location: '/settings' });
      return res.end();
    }
    if (!current) {
      return send(res, 200, page('Account settings', `
        <h1 id="accountSettings">Account settings</h1>
        <p id="settingsSignedOut">You are not signed in here.</p>`));
    }
    const rows = sessionsOf(current.accountId).map((live) => `
        <li class="session" data-sid="${escape(authgearSid(live.uid))}">
          ${live.uid === current.uid ? '<strong>This browser</strong>' : `Another browser
          <form method="post" action="/settings/revoke"><input type="hidden" name="session" value="${escape(live.uid)}">
          <button type="submit" class="secondary revoke">Sign out that session</button></form>`}
        </li>`).join('');
    return send(res, 200, page('Account settings', `
      <h1 id="accountSettings">Account settings</h1>
      <p>Signed in as <strong id="settingsEmail">${escape(accountBySub(current.accountId)?.email ?? current.accountId)}</strong>.</p>
      <h2>Sessions</h2><ul id="sessions">${rows}</ul>
      <form method="post" action="/settings/revoke-others"><button type="submit" class="secondary" id="revokeOthers">Sign out all other sessions</button></form>
      <form method="post" action="/settings/sign-out"><button type="submit" id="settingsSignOut">Sign out</button></form>`));
  }

  return { endSessionByPost, settingsPage };
}
