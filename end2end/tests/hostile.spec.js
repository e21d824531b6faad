// A hostile provider (end2end/provider/hostile.js): for each misbehaviour of the RP conformance
// plans, the login (or refresh) is refused, no session exists afterwards, the person sees an
// error page with a way to try again, the log has one line naming the reason and no token
// string, and the server keeps serving.
import {
  test, expect, TEST, expectHydrated, providerSettings, lastIssuedTokens, enterEmailAndCode,
  currentUser, accessTokenExpired,
} from './support.js';
import { startApp } from './processes.js';

let app;

test.beforeAll(async () => {
  // Ready means discovered: the start-up discovery is not counted in a test's discoveries.
  app = await startApp({ port: TEST.extraAppPorts[0], sessionStore: 'memory', readyPath: '/readyz' });
});

test.afterAll(async () => {
  await app.stop();
});

test.afterEach(async ({ request }, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) console.log(app.log());
  await providerSettings(request, { hostile: null, accessTokenTtl: 1800 });
});

/** Runs the Email + code login on the test app; returns the /callback response. */
async function attemptLogin(page, email) {
  await page.goto(`${app.url}/`);
  await page.locator('#qsLoginBtn').click();
  const callback = page.waitForResponse((r) => r.url().startsWith(`${app.url}/callback`), { timeout: 20_000 });
  await enterEmailAndCode(page, email);
  return callback;
}

const signedInUser = (page) => currentUser(page, app.url);

/** Log lines written since `mark` (a length of the log). */
const linesSince = (mark) => app.log().slice(mark).split('\n').filter(Boolean);

const refusals = [
  ['id-token-bad-signature', 502, /ID token rejected: .*signature/i],
  ['id-token-alg-none', 502, /ID token rejected: .*(none|unsupported|algorithm|signature)/i],
  ['id-token-wrong-iss', 502, /ID token rejected: .*issuer/i],
  ['id-token-wrong-aud', 502, /ID token rejected: .*audience/i],
  ['id-token-expired', 502, /ID token rejected: .*expire/i],
  ['id-token-wrong-nonce', 502, /ID token rejected: .*nonce/i],
  ['id-token-no-nonce', 502, /ID token rejected: .*nonce/i],
  ['id-token-no-sub', 502, /token exchange failed: .*sub/i],
  ['id-token-other-azp', 502, /ID token rejected: the authorized party \(azp\) is `another-client`/],
  // openidconnect trusts no audience but this client's, before azp is even looked at.
  ['id-token-two-audiences-no-azp', 502, /ID token rejected: Invalid audiences: `another-client` is not a trusted audience/],
  ['id-token-issued-in-the-future', 502, /ID token rejected: .*issued in the future/],
  ['id-token-wrong-at-hash', 502, /ID token rejected: at_hash: does not match the access token/],
  ['id-token-unknown-kid', 502, /ID token rejected: signed with a key that is not in the provider's JWKS/],
  ['userinfo-other-sub', 502, /userinfo failed: .*sub/i],
  ['token-500', 502, /token exchange failed: .*(server_error|500)/i],
  ['token-not-json', 502, /token exchange failed: .*(pars|content-type)/i],
  ['token-huge', 502, /token exchange failed: .*larger than 262144 bytes/],
  ['token-hang', 502, /token exchange failed: .*(timed out|timeout)/i],
];

for (const [mode, status, reason] of refusals) {
  test(`refused: ${mode}`, async ({ page, request }) => {
    test.setTimeout(45_000);
    await providerSettings(request, { hostile: mode });
    const discoveriesBefore = app.log().split('provider discovered').length;
    const mark = app.log().length;

    const callback = await attemptLogin(page, `${mode}@example.com`);
    expect(callback.status()).toBe(status);
    await expect(page.locator('#errorTitle')).toHaveText('Sign-in failed');
    await expect(page.locator('#tryAgain')).toHaveAttribute('href', '/login');
    expect(await signedInUser(page)).toBeNull();

    const failures = linesSince(mark).filter((line) => /request (failed|refused)/.test(line));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(reason);
    const { access_token: accessToken, refresh_token: refreshToken, id_token: idToken } = await lastIssuedTokens(request);
    for (const token of [accessToken, refreshToken, idToken].filter(Boolean)) {
      expect(app.log().includes(token), 'a token string in the log').toBe(false);
    }
    // An unknown key makes the app fetch the provider's keys again, once, before refusing.
    const discoveries = app.log().split('provider discovered').length - discoveriesBefore;
    expect(discoveries).toBe(mode === 'id-token-unknown-kid' ? 1 : 0);

    expect((await request.get(`${app.url}/healthz`)).status()).toBe(200);
  });
}

test('a rotated signing key is fetched again and the login goes through', async ({ page, request }) => {
  await providerSettings(request, { hostile: 'id-token-rotated-key' });
  const discoveriesBefore = app.log().split('provider discovered').length;
  const callback = await attemptLogin(page, 'rotated@example.com');
  expect(callback.status()).toBe(303);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome rotated@example.com!');
  expect(app.log().split('provider discovered').length - discoveriesBefore).toBe(1);
  expect((await signedInUser(page)).email).toBe('rotated@example.com');
});

test('an ID token with the right at_hash is accepted', async ({ page, request }) => {
  await providerSettings(request, { hostile: 'id-token-right-at-hash' });
  const callback = await attemptLogin(page, 'hash@example.com');
  expect(callback.status()).toBe(303);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome hash@example.com!');
});

test('a refreshed ID token for another subject ends the session', async ({ page, request }) => {
  await providerSettings(request, { accessTokenTtl: 3 });
  await attemptLogin(page, 'refresh-sub@example.com');
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome refresh-sub@example.com!');
  await expectHydrated(page);
  await providerSettings(request, { hostile: 'refresh-other-sub' });
  const mark = app.log().length;
  await accessTokenExpired(page, app.url);
  await page.locator('#refreshProfile').click();
  await expect(page.locator('#sessionEnded')).toHaveText('Your session has ended, please log in again.');
  expect(await signedInUser(page)).toBeNull();
  const ended = linesSince(mark).filter((line) => line.includes('session ended by the provider'));
  expect(ended).toHaveLength(1);
  expect(ended[0]).toContain('the subject changed');
});

test('a callback without code, and one for another login attempt, are refused', async ({ page }) => {
  // Start a real login to have a pending attempt, and read its state from the redirect.
  const login = await page.request.get(`${app.url}/login`, { maxRedirects: 0 });
  const state = new URL(login.headers().location).searchParams.get('state');
  const noCode = await page.request.get(`${app.url}/callback?state=${state}`);
  expect(noCode.status()).toBe(400);
  expect(await noCode.text()).toContain('Try again');
  // The attempt is used up: its state does not work twice, even with a code.
  const replay = await page.request.get(`${app.url}/callback?state=${state}&code=abc`);
  expect(replay.status()).toBe(400);
  expect(await signedInUser(page)).toBeNull();
});
