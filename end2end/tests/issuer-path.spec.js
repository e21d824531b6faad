// Providers other than Authgear: an issuer with a path (Keycloak's /realms/<name>, Entra ID's
// /<tenant>/v2.0, Okta's /oauth2/<id>) and a trailing slash, which the app keeps exactly as the
// provider writes it (discovery under the path, `iss` compared character for character).
import {
  test, expect, TEST, enterEmailAndCode, expectHydrated, accessTokenExpired, refreshesOf,
} from './support.js';
import { freePorts, scratchDir, startApp, startProvider } from './processes.js';

test('an issuer with a path and a trailing slash: login, refresh, back-channel logout, logout', async ({ page, request }) => {
  const [providerPort] = await freePorts(1);
  const host = `http://127.0.0.1:${providerPort}`;
  const issuer = `${host}/realms/main/`;
  const appUrl = `http://localhost:${TEST.extraAppPorts[0]}`;
  const provider = await startProvider(providerPort, {
    PROVIDER_ISSUER: issuer, APP_URL: appUrl, EXTRA_APP_URLS: '', WEBHOOK_URL: '',
  });
  const app = await startApp({
    port: TEST.extraAppPorts[0],
    sessionStore: `sqlite://${scratchDir('issuer-path')}/sessions.db`,
    env: { AUTHGEAR_DOMAIN: issuer, AUTHGEAR_WEBHOOK_SECRET: '' },
  });
  try {
    const discovery = await (await request.get(`${issuer}.well-known/openid-configuration`)).json();
    expect(discovery.issuer).toBe(issuer);
    expect(discovery.token_endpoint).toBe(`${host}/realms/main/oauth2/token`);
    // Short-lived access tokens, for the refresh below (the provider's test hooks are at its root).
    await request.post(`${host}/__test/settings`, { data: { accessTokenTtl: 3 } });

    // Login.
    await page.goto(`${app.url}/`);
    await page.locator('#qsLoginBtn').click();
    await expect(page).toHaveURL(new RegExp(`^${host}/interaction/`));
    await enterEmailAndCode(page, 'realm@example.com');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome realm@example.com!');
    await expectHydrated(page);

    // Refresh: the refreshed ID token's `iss` is checked against the same issuer.
    await accessTokenExpired(page, app.url);
    await page.locator('#refreshProfile').click();
    await expect.poll(() => refreshesOf(page, app.url)).toBe(1);
    await expect(page.locator('#profileError')).toHaveCount(0);

    // Back-channel logout: the user signs out on the provider's own pages; the provider posts a
    // logout token (iss: the issuer with its path) to the app.
    await page.goto(`${issuer}oauth2/end_session`);
    await expect(page.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
    await page.goto(`${app.url}/`);
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    expect(app.log()).not.toContain('back-channel logout refused');

    // Logout from the app: the provider's end-session endpoint under the path, and back home.
    await page.locator('#qsLoginBtn').click();
    await enterEmailAndCode(page, 'realm@example.com');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome realm@example.com!');
    await page.locator('#qsLogoutBtn').click();
    await expect(page).toHaveURL(new RegExp(`^${app.url}/`));
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  } finally {
    if (test.info().status !== test.info().expectedStatus) {
      console.log(`--- app ---\n${app.log()}\n--- provider ---\n${provider.log()}`);
    }
    await app.stop();
    await provider.stop();
  }
});
