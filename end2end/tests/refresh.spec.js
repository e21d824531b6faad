// Tokens that stay fresh: refresh after expiry (with and without rotation), one refresh for
// concurrent calls, a revoked grant ending the session, an outage that does not.
import {
  test, expect, TEST, logIn, lastIssuedTokens, expectHydrated, providerSettings, refreshGrants,
  accessTokenExpired, refreshesOf,
} from './support.js';

const SHORT_TTL = 3; // seconds

test.afterEach(async ({ request }) => {
  await providerSettings(request, {
    accessTokenTtl: 1800, rotateRefreshTokens: false, outage: false, emptyRefreshErrors: false, hostile: null,
  });
});

for (const rotate of [false, true]) {
  test(`"Refresh profile" refreshes an expired token once (rotation ${rotate ? 'on' : 'off'})`, async ({ page, request }) => {
    await providerSettings(request, { accessTokenTtl: SHORT_TTL, rotateRefreshTokens: rotate, resetStats: true });
    await logIn(page, `refresh-${rotate}@example.com`);
    await expectHydrated(page);
    expect(await refreshesOf(page)).toBe(0);
    const firstExpiry = await page.locator('#tokenStatus').textContent();

    await accessTokenExpired(page);
    await page.locator('#refreshProfile').click();
    // The page shows the new token's expiry.
    await expect(page.locator('#tokenStatus')).not.toHaveText(firstExpiry);
    expect(await refreshesOf(page)).toBe(1);
    expect(await refreshGrants(request)).toBe(1);
    expect(JSON.parse(await page.locator('#claims').textContent()).email).toBe(`refresh-${rotate}@example.com`);

    // The kept (or rotated) refresh token works again.
    await accessTokenExpired(page);
    const secondExpiry = await page.locator('#tokenStatus').textContent();
    await page.locator('#refreshProfile').click();
    await expect(page.locator('#tokenStatus')).not.toHaveText(secondExpiry);
    expect(await refreshesOf(page)).toBe(2);
    expect(await refreshGrants(request)).toBe(2);
    await expect(page.locator('#profileError')).toHaveCount(0);
  });
}

test('20 concurrent profile calls after expiry cause exactly one refresh grant', async ({ page, request }) => {
  await providerSettings(request, { accessTokenTtl: SHORT_TTL, rotateRefreshTokens: true, resetStats: true });
  await logIn(page, 'concurrent@example.com');
  await accessTokenExpired(page);
  const statuses = await page.evaluate(() => Promise.all(
    Array.from({ length: 20 }, () => fetch('/api/profile', { method: 'POST' }).then((r) => r.status)),
  ));
  expect(statuses).toEqual(Array(20).fill(200));
  expect(await refreshGrants(request)).toBe(1);
  await page.reload();
  expect(await refreshesOf(page)).toBe(1);
});

test('a refresh the browser walked away from still completes and keeps the rotated token', async ({ page, request }) => {
  await providerSettings(request, { accessTokenTtl: SHORT_TTL, rotateRefreshTokens: true, resetStats: true, hostile: 'refresh-slow' });
  await logIn(page, 'walkaway@example.com');
  await accessTokenExpired(page);
  // A call that refreshes, abandoned while the provider (which has already rotated the
  // refresh token) takes its time to answer.
  const outcome = await page.evaluate(async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 500);
    return fetch('/api/token_status', { method: 'POST', signal: controller.signal })
      .then((r) => `answered ${r.status}`, (error) => error.name);
  });
  expect(outcome).toBe('AbortError');
  await providerSettings(request, { hostile: null });
  // The app stored the rotated token anyway: the refresh counted, and the next one works.
  await expect.poll(() => refreshesOf(page), { timeout: 5_000 }).toBe(1);
  await accessTokenExpired(page);
  const next = await page.evaluate(() => fetch('/api/token_status', { method: 'POST' }).then((r) => r.status));
  expect(next).toBe(200);
  expect(await refreshGrants(request)).toBe(2);
  expect(await refreshesOf(page)).toBe(2);
});

// RFC 6749 answers a revoked refresh token with invalid_grant; some providers with an empty
// 400. Any 4xx but 429 ends the grant (an outage keeps the session: the next test).
for (const empty of [false, true]) {
  test(`a refresh token revoked at the provider ends the session, noticed without a reload (${empty ? 'an empty 400' : 'invalid_grant'})`, async ({ page, request }) => {
    await providerSettings(request, { accessTokenTtl: SHORT_TTL, emptyRefreshErrors: empty });
    await logIn(page, `revoked-${empty}@example.com`);
    await expectHydrated(page);
    const { refresh_token: refreshToken } = await lastIssuedTokens(request);
    const revoked = await request.post(`${TEST.issuer}/oauth2/revoke`, {
      form: { token: refreshToken, client_id: TEST.clientId, client_secret: TEST.clientSecret },
    });
    expect(revoked.ok()).toBeTruthy();
    // What the app will be answered: invalid_grant, or 400 with nothing.
    const refused = await request.post(`${TEST.issuer}/oauth2/token`, {
      form: {
        grant_type: 'refresh_token', refresh_token: refreshToken, client_id: TEST.clientId, client_secret: TEST.clientSecret,
      },
    });
    expect(refused.status()).toBe(400);
    expect(await refused.text()).toEqual(empty ? '' : expect.stringContaining('invalid_grant'));

    await accessTokenExpired(page);
    // The tab regains focus: the page asks /session/status, which finds the grant gone.
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await expect(page.locator('#sessionEnded')).toHaveText('Your session has ended, please log in again.');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    await page.reload();
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  });
}

test('a provider outage during refresh is a temporary error; the session survives it', async ({ page, request }) => {
  await providerSettings(request, { accessTokenTtl: SHORT_TTL, resetStats: true });
  await logIn(page, 'outage@example.com');
  await expectHydrated(page);
  await accessTokenExpired(page);

  await providerSettings(request, { outage: true });
  await page.locator('#refreshProfile').click();
  await expect(page.locator('#profileError')).toContainText('You are still signed in');
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome outage@example.com!');

  // The failed refresh backs off (2 s, doubling): asked again at once, the app does not call
  // the provider again.
  const providerRequests = async () => (await (await request.get(`${TEST.issuer}/__test/stats`)).json()).requests;
  const before = await providerRequests();
  await page.locator('#refreshProfile').click();
  await expect(page.locator('#refreshProfile')).toHaveText('Refresh profile');
  await expect(page.locator('#profileError')).toContainText('You are still signed in');
  expect(await providerRequests()).toBe(before);

  // Once the provider is back, the first "Refresh profile" after the back-off refreshes: asked
  // until it does (each ask before then is answered at once, without the provider).
  await providerSettings(request, { outage: false });
  await expect.poll(async () => {
    await page.locator('#refreshProfile').click();
    await expect(page.locator('#refreshProfile')).toHaveText('Refresh profile');
    return refreshesOf(page);
  }, { intervals: [250], timeout: 10_000 }).toBe(1);
  await expect(page.locator('#profileError')).toHaveCount(0);
  expect(await refreshGrants(request)).toBe(1);
});

test('logout revokes the refresh token at the provider', async ({ page, request }) => {
  await logIn(page, 'revoke-at-logout@example.com');
  const { refresh_token: refreshToken } = await lastIssuedTokens(request);
  await page.locator('#qsLogoutBtn').click();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  const refresh = await request.post(`${TEST.issuer}/oauth2/token`, {
    form: {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: TEST.clientId,
      client_secret: TEST.clientSecret,
    },
  });
  expect(refresh.status()).toBe(400);
  expect((await refresh.json()).error).toBe('invalid_grant');
});
