// "Your devices" on /account (the crate's SessionList over list_sessions / end_session /
// end_other_sessions) and the step-up before ending sessions or opening /account/security
// (RECENT_LOGIN_TO_END_SESSIONS=5m, RequireRecentLogin max_age=300): real browsers, the real
// server on SQLite, the local provider honouring max_age as Authgear does.
import {
  test, expect, TEST, logIn, enterEmailAndCode, expectHydrated, expectGuestWithReason, currentUser,
  lastIssuedTokens, providerSettings, WITHIN,
} from './support.js';

/** A refresh grant with `refreshToken` at the provider: its status (400 once revoked). */
async function refreshStatus(request, refreshToken) {
  const response = await request.post(`${TEST.issuer}/oauth2/token`, {
    form: {
      grant_type: 'refresh_token', refresh_token: refreshToken, client_id: TEST.clientId, client_secret: TEST.clientSecret,
    },
  });
  return response.status();
}

/** A browser of its own (its own cookies), signed in as `email`, on the home page. */
async function browserSignedIn(browser, email) {
  const context = await browser.newContext({ baseURL: TEST.appUrl });
  const page = await context.newPage();
  await logIn(page, email);
  await expectHydrated(page);
  return { context, page };
}

/** The rows of the devices list on the page. */
const rows = (page) => page.locator('.session-list > li.session');

test.afterEach(async ({ request }) => {
  await providerSettings(request, { loginAge: 0 });
});

test('the devices list shows this user\'s sessions only; "Sign out" ends one, its tab turns, its refresh token is revoked', async ({ browser, page, request }) => {
  const email = 'devices@example.com';
  await logIn(page, email);
  const stranger = await browserSignedIn(browser, 'stranger@example.com');
  const phone = await browserSignedIn(browser, email);
  const { refresh_token: phoneRefreshToken } = await lastIssuedTokens(request);
  expect(await refreshStatus(request, phoneRefreshToken)).toBe(200);

  await page.goto('/account');
  await expect(page.locator('#devicesTitle')).toHaveText('Your devices');
  await expect(rows(page)).toHaveCount(2);
  const mine = rows(page).first();
  await expect(mine).toHaveAttribute('aria-current', 'true');
  await expect(mine.locator('.session-this')).toHaveText('This browser');
  await expect(mine.locator('.session-end')).toHaveCount(0);
  const other = rows(page).nth(1);
  await expect(other.locator('.session-device')).toHaveText('Chrome on Linux');
  await expect(other.locator('.session-times')).toContainText('Signed in ');
  await expect(other.locator('.session-end')).toHaveAttribute('aria-label', /^Sign out Chrome on Linux, signed in \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
  // A browser's own form post is answered with a redirect to the page its action names, a
  // local path only.
  for (const [returnTo, location] of [['/account', '/account'], ['https://evil.example/', '/']]) {
    const posted = await page.request.post(`${TEST.appUrl}/api/list_sessions?return_to=${encodeURIComponent(returnTo)}`, {
      headers: { origin: TEST.appUrl, accept: 'text/html' }, maxRedirects: 0,
    });
    expect(posted.status()).toBe(303);
    expect(posted.headers().location).toBe(location);
  }
  // No session id on the page: the handle is a keyed hash of it.
  const handle = await other.locator('input[name=handle]').getAttribute('value');
  expect(handle).toMatch(/^[A-Za-z0-9_-]{22}$/);
  const html = await page.content();
  for (const cookie of await page.context().cookies()) {
    expect(html).not.toContain(cookie.value);
  }

  // The stranger sees only their own session, and cannot end this user's with its handle.
  const theirs = await stranger.page.request.post(`${TEST.appUrl}/api/list_sessions`, { headers: { origin: TEST.appUrl } });
  expect(theirs.status()).toBe(200);
  const theirList = await theirs.json();
  expect(theirList).toHaveLength(1);
  expect(theirList[0].this_browser).toBe(true);
  expect(theirList.map((s) => s.handle)).not.toContain(handle);
  const attempt = await stranger.page.request.post(`${TEST.appUrl}/api/end_session`, {
    headers: { origin: TEST.appUrl }, form: { handle },
  });
  expect(attempt.status(), await attempt.text()).toBe(200);
  expect(await currentUser(phone.page)).not.toBeNull();
  // Not a handle at all: a clear 400.
  const malformed = await stranger.page.request.post(`${TEST.appUrl}/api/end_session`, {
    headers: { origin: TEST.appUrl }, form: { handle: 'not-a-handle' },
  });
  expect(malformed.status()).toBe(400);
  expect(await malformed.json()).toEqual({ Call: 'not a session handle' });

  // "Sign out" on the phone's row: back on /account, one row left; the phone's open page turns
  // to the guest view within 5 s; its refresh token no longer works at the provider.
  await other.locator('.session-end').click();
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(rows(page)).toHaveCount(1);
  await expect(page.locator('.sessions-end-others')).toHaveCount(0);
  await expectGuestWithReason(phone.page);
  expect(await refreshStatus(request, phoneRefreshToken)).toBe(400);
  // This browser and the stranger are still signed in.
  expect((await currentUser(page)).email).toBe(email);
  expect((await currentUser(stranger.page)).email).toBe('stranger@example.com');
  await stranger.context.close();
  await phone.context.close();
});

test('ending sessions needs a recent login: 401 RecentLoginRequired for a script, the login with max_age and back for the form', async ({ browser, page, request }) => {
  const email = 'stepup@example.com';
  // Signed in "an hour ago", as far as the provider's auth_time says.
  await providerSettings(request, { loginAge: 3600 });
  await logIn(page, email);
  await providerSettings(request, { loginAge: 0 });
  const laptop = await browserSignedIn(browser, email);

  // A script's call: 401 and the machine-readable reason; nothing ended.
  const refused = await page.request.post(`${TEST.appUrl}/api/end_other_sessions`, { headers: { origin: TEST.appUrl } });
  expect(refused.status()).toBe(401);
  expect(await refused.json()).toEqual({ RecentLoginRequired: 300 });
  expect(await currentUser(laptop.page)).not.toBeNull();

  // The button: off to the provider's login with max_age=300 (its own session is an hour old,
  // so it asks again), back to /account, where the action is repeated.
  await page.goto('/account');
  await expect(rows(page)).toHaveCount(2);
  const authorize = page.waitForRequest((req) => req.url().startsWith(`${TEST.issuer}/oauth2/authorize`));
  await page.locator('.sessions-end-others').click();
  const authorizeUrl = new URL((await authorize).url());
  expect(authorizeUrl.searchParams.get('max_age')).toBe('300');
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, email);
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(rows(page)).toHaveCount(2);
  expect(await currentUser(laptop.page)).not.toBeNull();

  await page.locator('.sessions-end-others').click();
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(rows(page)).toHaveCount(1);
  await expectGuestWithReason(laptop.page);
  expect((await currentUser(page)).email).toBe(email);
  await laptop.context.close();
});

test('/account/security is shown after a recent login only: an older one goes through the provider (max_age) and comes back', async ({ page, request }) => {
  await providerSettings(request, { loginAge: 3600 });
  await logIn(page, 'security@example.com');
  await providerSettings(request, { loginAge: 0 });

  // The server's answer: a redirect to the login with max_age, without the page in its body.
  const response = await page.request.get(`${TEST.appUrl}/account/security`, { maxRedirects: 0 });
  expect(response.status()).toBe(302);
  expect(response.headers().location).toBe('/login?return_to=/account/security&max_age=300');
  expect(await response.text()).not.toContain('securityTitle');

  await page.goto('/account');
  await page.locator('#securityLink').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, 'security@example.com');
  await expect(page).toHaveURL(`${TEST.appUrl}/account/security`);
  await expect(page.locator('#securityTitle')).toHaveText('Security');

  // Now recent: shown straight away (and not from a cache of the earlier answer).
  const again = await page.request.get(`${TEST.appUrl}/account/security`, { maxRedirects: 0 });
  expect(again.status()).toBe(200);
  expect(await again.text()).toContain('securityTitle');
});

test('an ID token whose auth_time is older than max_age asked is refused at the callback', async ({ page, request }) => {
  // The provider keeps dating logins an hour back, even the one that max_age asked to be fresh.
  await providerSettings(request, { loginAge: 3600 });
  await page.goto('/login?return_to=/account&max_age=300');
  await enterEmailAndCode(page, 'stale@example.com');
  await expect(page.locator('h1')).toHaveText('Sign-in failed');
  expect(await currentUser(page)).toBeNull();
});
