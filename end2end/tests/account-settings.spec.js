// "Manage account" opened already signed in (AUTHGEAR_SETTINGS_SIGNED_IN), as Authgear's SDKs do
// it: the app exchanges the session's refresh token for a one-time app session token, and the
// browser signs in at the provider with it on the way to the settings page. The local provider
// emulates Authgear's exchange and login hint (provider/app-session.js). Without the setting,
// "Manage account" is the plain settings link (ui.spec.js).
import {
  test, expect, TEST, logIn, expectHydrated, lastIssuedTokens,
} from './support.js';
import { startApp, scratchDir } from './processes.js';

const FULL_ACCESS = 'https://authgear.com/scopes/full-access';

// A port of this worker's that no spec holds for a whole file (see expiry.spec.js).
const appPort = () => TEST.extraAppPorts[1];

function startSignedInSettingsApp(name) {
  return startApp({
    port: appPort(),
    sessionStore: `sqlite://${scratchDir(name)}/sessions.db`,
    env: { AUTHGEAR_SETTINGS_SIGNED_IN: 'true' },
  });
}

test('"Manage account" shows the provider\'s settings signed in, with no login page, by a token good once', async ({ page, context, browser, request }) => {
  const app = await startSignedInSettingsApp('settings-signed-in');
  try {
    const authorize = page.waitForRequest((r) => r.url().startsWith(`${TEST.issuer}/oauth2/authorize`));
    await logIn(page, 'manage@example.com', app.url);
    expect(new URL((await authorize).url()).searchParams.get('scope').split(' ')).toContain(FULL_ACCESS);
    const { refresh_token: refreshToken } = await lastIssuedTokens(request);

    // The provider forgets this browser: only the app's session is left, as after the
    // provider's session cookie expired.
    await context.clearCookies({ domain: '127.0.0.1' });
    await page.goto(`${app.url}/`);
    await expectHydrated(page);
    await expect(page.locator('#manageAccount')).toHaveAttribute('href', '/account-settings');

    const navigations = [];
    page.on('request', (r) => { if (r.isNavigationRequest()) navigations.push(r.url()); });
    await page.locator('#manageAccount').click();
    await expect(page.locator('#settingsEmail')).toHaveText('manage@example.com');
    expect(page.url()).toBe(`${TEST.issuer}/settings`);
    expect(navigations.filter((url) => url.includes('/interaction/'))).toEqual([]);

    // One redirect from the app to the authorization endpoint, carrying only the one-time token.
    const signIn = navigations.find((url) => url.startsWith(`${TEST.issuer}/oauth2/authorize`));
    const params = new URL(signIn).searchParams;
    expect(params.get('response_type')).toBe('none');
    expect(params.get('prompt')).toBe('none');
    expect(params.get('client_id')).toBe(TEST.clientId);
    expect(params.get('redirect_uri')).toBe(`${TEST.issuer}/settings`);
    expect(params.get('scope').split(' ')).toContain(FULL_ACCESS);
    const hint = new URL(params.get('login_hint'));
    expect(`${hint.origin}${hint.pathname}`).toBe('https://authgear.com/login_hint');
    expect(hint.searchParams.get('type')).toBe('app_session_token');
    expect(hint.searchParams.get('app_session_token')).toMatch(/^[\w-]{20,}$/);
    expect(signIn).not.toContain(refreshToken);

    // Good once: the same URL in another browser signs no one in.
    const stranger = await browser.newContext();
    try {
      const other = await stranger.newPage();
      const replay = await other.goto(signIn);
      expect(replay.status()).toBe(400);
      await other.goto(`${TEST.issuer}/settings`);
      await expect(other.locator('#settingsSignedOut')).toBeVisible();
    } finally {
      await stranger.close();
    }

    // The app's session is unharmed: its refresh token still works (the page still signed in).
    await page.goto(`${app.url}/`);
    await expect(page.locator('#profileDropDown')).toHaveText(/^Welcome /);
    await expect(page.locator('#qsLogoutBtn')).toBeVisible();
  } finally {
    await app.stop();
  }
});

test('another site sending the browser to /account-settings, or a guest, gets the plain settings page', async ({ page, context }) => {
  const app = await startSignedInSettingsApp('settings-cross-site');
  try {
    await logIn(page, 'cross@example.com', app.url);
    await context.clearCookies({ domain: '127.0.0.1' });

    // A navigation started on another site (the provider's host is one): no token is spent.
    await page.goto(`${TEST.issuer}/settings`);
    const answer = page.waitForResponse(`${app.url}/account-settings`);
    await page.evaluate((url) => { window.location.href = url; }, `${app.url}/account-settings`);
    expect((await answer).headers().location).toBe(`${TEST.issuer}/settings`);
    await expect(page.locator('#settingsSignedOut')).toBeVisible();

    // A guest: the plain page too.
    await context.clearCookies();
    const response = await page.request.get(`${app.url}/account-settings`, {
      maxRedirects: 0,
      headers: { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate' },
    });
    expect(response.status()).toBe(302);
    expect(response.headers().location).toBe(`${TEST.issuer}/settings`);
  } finally {
    await app.stop();
  }
});
