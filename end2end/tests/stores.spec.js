// Sessions that survive restarts and scale out: the real server on SQLite and on a
// real redis-server, restarted, doubled, expired and cut off from its store.
import {
  test, expect, TEST, logIn, expectHydrated, providerSettings, refreshGrants, enterEmailAndCode,
  currentUser, accessTokenExpired, webhook, postWebhook, subjectOf, expectGuestWithReason, logoutToken,
  WITHIN, refreshesOf,
} from './support.js';
import { startApp, redisServer, scratchDir, sqliteCount } from './processes.js';

// This worker's ports for the apps the tests start (registered at its provider).
const portA = () => TEST.extraAppPorts[0];
const portB = () => TEST.extraAppPorts[1];
let redis;

/** The apps a test started; all stopped after it, whatever happened. */
let running = [];
async function app(options) {
  const started = await startApp(options);
  running.push(started);
  return started;
}

test.beforeAll(async () => {
  redis = redisServer(TEST.redisPort, scratchDir('redis'));
  await redis.start();
});

test.afterAll(async () => {
  await redis.stop();
});

test.afterEach(async ({ request }, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    for (const started of running) console.log(`--- app at ${started.url} ---\n${started.log()}`);
  }
  await Promise.all(running.map((started) => started.stop()));
  running = [];
  await providerSettings(request, { accessTokenTtl: 1800, rotateRefreshTokens: false, outage: false });
});

for (const kind of ['sqlite', 'redis']) {
  test(`a login survives a server restart (${kind})`, async ({ page }) => {
    const sessionStore = kind === 'sqlite' ? `sqlite://${scratchDir('restart')}/sessions.db` : redis.url;
    const first = await app({ port: portA(), sessionStore });
    await logIn(page, `restart-${kind}@example.com`, first.url);
    await first.stop();

    const second = await app({ port: portA(), sessionStore });
    const response = await page.reload();
    expect(response.status()).toBe(200);
    expect(await response.text()).toContain(`Welcome restart-${kind}@example.com!`);
    await expectHydrated(page);
    await expect(page.locator('#profileDropDown')).toHaveText(`Welcome restart-${kind}@example.com!`);
    expect(second.log()).not.toContain('record not found in store');
  });
}

test('two instances sharing Redis: each lists the user\'s sessions of both, and ends one whose tab is on the other', async ({ page, browser }) => {
  const a = await app({ port: portA(), sessionStore: redis.url });
  const b = await app({ port: portB(), sessionStore: redis.url });
  const email = 'devices-redis@example.com';
  await logIn(page, email, a.url);
  await expectHydrated(page);
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await logIn(otherPage, email, b.url);

  for (const [tab, url] of [[page, a.url], [otherPage, b.url]]) {
    await tab.goto(`${url}/account`);
    await expect(tab.locator('.session-list > li')).toHaveCount(2);
  }
  // From instance B, sign out the session whose page is open on instance A.
  await otherPage.locator('.session-end').click();
  await expect(otherPage).toHaveURL(`${b.url}/account`);
  await expect(otherPage.locator('.session-list > li')).toHaveCount(1);
  await expect(page.locator('#loginState')).toHaveText('Not signed in', WITHIN);
  expect(await currentUser(page, a.url)).toBeNull();
  expect((await currentUser(otherPage, b.url)).email).toBe(email);
  await other.close();
});

test('two instances sharing Redis: one login, one refresh grant, one logout', async ({ page, request }) => {
  await providerSettings(request, { accessTokenTtl: 3, rotateRefreshTokens: true, resetStats: true });
  const a = await app({ port: portA(), sessionStore: redis.url });
  const b = await app({ port: portB(), sessionStore: redis.url });

  // Cookies belong to the host, not the port: like two instances behind one load balancer.
  await logIn(page, 'shared@example.com', a.url);
  await page.goto(`${b.url}/`);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome shared@example.com!');

  // After expiry, 10 concurrent calls on each instance: one refresh grant (rotation is on, so a
  // second grant with the same refresh token would end the session).
  await accessTokenExpired(page, b.url);
  const calls = [a.url, b.url].flatMap((url) => Array.from({ length: 10 }, () =>
    page.request.post(`${url}/api/profile`, { headers: { origin: url } }).then((r) => r.status())));
  expect(await Promise.all(calls)).toEqual(Array(20).fill(200));
  expect(await refreshGrants(request)).toBe(1);
  for (const url of [a.url, b.url]) {
    expect(await refreshesOf(page, url)).toBe(1);
  }

  // Logout on B ends the session on A too.
  await expectHydrated(page);
  await page.locator('#qsLogoutBtn').click();
  await expect(page).toHaveURL(new RegExp(`^${b.url}/`));
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  await page.goto(`${a.url}/`);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
});

test('an idle session expires and is deleted from Redis', async ({ page }) => {
  const a = await app({
    port: portA(),
    sessionStore: redis.url,
    env: { SESSION_IDLE_TIMEOUT: '3s', SESSION_MAX_LIFETIME: '1h' },
  });
  await redis.flush();
  await logIn(page, 'idle@example.com', a.url);
  await expect(page.locator('#sessionEnds')).toContainText('Your session ends on');
  expect(await redis.sessionKeys()).toBe(1);
  // No request for three seconds: Redis expires the key by itself.
  await expect.poll(() => redis.sessionKeys(), { timeout: 6000 }).toBe(0);
  await page.reload();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
});

test('logins started without a cookie write nothing to the store (SQLite); a finished one writes one record', async ({ page, playwright }) => {
  const db = `${scratchDir('flood')}/sessions.db`;
  const a = await app({ port: portA(), sessionStore: `sqlite://${db}` });
  const count = () => sqliteCount(db, 'select count(*) from tower_sessions');
  // A client of its own, with no session cookie (the cookies it gets go to /callback only).
  const client = await playwright.request.newContext();
  for (let i = 0; i < 200; i += 1) {
    const login = await client.get(`${a.url}/login`, { maxRedirects: 0 });
    expect(login.status()).toBe(303);
  }
  await client.dispose();
  expect(count()).toBe(0);
  await logIn(page, 'flood@example.com', a.url);
  expect(count()).toBe(1);
});

test('an active session still ends at its maximum lifetime (SQLite), and is deleted', async ({ page }) => {
  const db = `${scratchDir('lifetime')}/sessions.db`;
  const a = await app({
    port: portA(),
    sessionStore: `sqlite://${db}`,
    env: { SESSION_IDLE_TIMEOUT: '4s', SESSION_MAX_LIFETIME: '8s' },
  });
  await logIn(page, 'lifetime@example.com', a.url);
  // Active (a page view every quarter second) until a second past the end the idle timeout set
  // at login, and still signed in...
  const idleEnd = (await currentUser(page, a.url)).session_ends_at;
  const activeUntil = async (deadline, check) => {
    while (Date.now() < deadline * 1000) {
      await page.waitForTimeout(250);
      await page.reload();
      if (check) await expect(page.locator('#profileDropDown')).toHaveText('Welcome lifetime@example.com!');
    }
  };
  await activeUntil(idleEnd + 1, true);
  // ... and active on, up to the end the page now states (eight seconds after login): the
  // session is over then, however active. Without a maximum lifetime, this activity would
  // keep it alive.
  const { session_ends_at: endsAt } = await currentUser(page, a.url);
  await activeUntil(endsAt, false);
  await page.reload();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  // The background task (every idle timeout, here 4 s) deletes expired records from the file.
  const count = (table) => sqliteCount(db, `select count(*) from ${table}`);
  await expect.poll(() => count('tower_sessions'), { timeout: 10_000 }).toBe(0);
  expect(count('session_owners')).toBe(0);
});

test('the session id changes at login: a cookie from before a login is not signed in', async ({ browser }) => {
  // A login attempt sets no session cookie (it waits in a cookie of its own), so the cookie
  // from before is that of an earlier login: log in again in the same browser.
  const context = await browser.newContext({ baseURL: TEST.appUrl });
  const page = await context.newPage();
  await logIn(page, 'fixation@example.com');
  const before = (await context.cookies(TEST.appUrl)).find((c) => c.name === 'session');
  expect(before).toBeTruthy();
  await page.goto('/login?prompt=login');
  await enterEmailAndCode(page, 'fixation@example.com');
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome fixation@example.com!');
  const after = (await context.cookies(TEST.appUrl)).find((c) => c.name === 'session');
  expect(after.value).not.toBe(before.value);

  // Someone who planted or saw the cookie from before gets nothing from it.
  const other = await browser.newContext({ baseURL: TEST.appUrl });
  await other.addCookies([before]);
  const otherPage = await other.newPage();
  await otherPage.goto('/');
  await expect(otherPage.locator('#profileDropDown')).toHaveText('Welcome Guest');
  await context.close();
  await other.close();
});

test('Redis stopped mid-session: a 503 page, not a logout; Redis back: the session works', async ({ page }) => {
  const a = await app({ port: portA(), sessionStore: redis.url });
  await logIn(page, 'outage@example.com', a.url);
  await redis.stop();
  try {
    const response = await page.reload();
    expect(response.status()).toBe(503);
    await expect(page.locator('#pageError')).toContainText('cannot reach its session store');
    const logout = await page.request.post(`${a.url}/logout`, { headers: { origin: a.url }, maxRedirects: 0 });
    expect(logout.status()).toBe(503);
    expect(await logout.text()).toContain('Try again');
    // A server function says so too: its status comes through the response options.
    const api = await page.request.post(`${a.url}/api/current_user`, { headers: { origin: a.url } });
    expect(api.status()).toBe(503);
    expect(await api.text()).toContain('cannot reach its session store');
    expect(a.log()).toContain('session store failed');
  } finally {
    await redis.start();
  }
  // The pool reconnects by itself; the cookie was kept, so the session is simply back.
  await expect.poll(async () => (await page.reload()).status(), { timeout: 10_000 }).toBe(200);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome outage@example.com!');
  const ready = await page.request.get(`${a.url}/readyz`);
  expect(ready.status()).toBe(200);
});

test('webhook with Redis down: 503 and Retry-After; delivered again once it is back, the session ends', async ({ page, request }) => {
  const a = await app({ port: portA(), sessionStore: redis.url });
  await redis.flush();
  await logIn(page, 'wh-redis@example.com', a.url);
  expect(await redis.sessionKeys()).toBe(1);
  const event = webhook('user.disabled', { user: { id: await subjectOf(page) } });
  await redis.stop();
  let refused;
  try {
    refused = await postWebhook(request, a.url, event);
  } finally {
    await redis.start();
  }
  expect(refused.status()).toBe(503);
  expect(Number(refused.headers()['retry-after'])).toBeGreaterThan(0);
  await expect.poll(async () => (await postWebhook(request, a.url, event)).status(), { timeout: 10_000 }).toBe(200);
  expect(await currentUser(page, a.url)).toBeNull();
  expect(await redis.sessionKeys(), 'the record is gone').toBe(0);
});

test('two instances on Redis: a webhook to one ends the tab open on the other within 5 s', async ({ page, request }) => {
  const a = await app({ port: portA(), sessionStore: redis.url });
  const b = await app({ port: portB(), sessionStore: redis.url });
  await logIn(page, 'wh-instances@example.com', a.url);
  const user = { id: await subjectOf(page) };
  // The same browser (cookies do not depend on the port), its page served by the other one.
  await page.goto(`${b.url}/`);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome wh-instances@example.com!');
  await expectHydrated(page);
  expect((await postWebhook(request, a.url, webhook('user.deleted', { user }))).status()).toBe(200);
  await expectGuestWithReason(page);
});

test('back-channel logout with Redis: a store failure lets the retry through; a replay to another instance is refused', async ({ page, request }) => {
  const a = await app({ port: portA(), sessionStore: redis.url });
  const b = await app({ port: portB(), sessionStore: redis.url });
  await logIn(page, 'bcl-redis@example.com', a.url);
  const token = await logoutToken(request, await subjectOf(page));
  const post = (url) => request.post(`${url}/backchannel-logout`, { form: { logout_token: token } });
  await redis.stop();
  let failed;
  try {
    failed = await post(a.url);
  } finally {
    await redis.start();
  }
  expect(failed.status()).toBe(503);
  // The provider's retry of the same token is not taken for a replay: nothing was ended.
  await expect.poll(async () => (await post(a.url)).status(), { timeout: 10_000 }).toBe(200);
  expect(await currentUser(page, a.url)).toBeNull();
  // Now it is remembered, by every instance.
  expect((await post(b.url)).status(), 'replay to the other instance').toBe(400);
});

test('an idle session ends in its open tab without a reload, when it expires', async ({ page }) => {
  const a = await app({
    port: portA(),
    sessionStore: `sqlite://${scratchDir('idle-tab')}/sessions.db`,
    env: { SESSION_IDLE_TIMEOUT: '3s', SESSION_MAX_LIFETIME: '1h' },
  });
  await logIn(page, 'idle-tab@example.com', a.url);
  await expectHydrated(page);
  // Nothing counts as activity now (the event stream does not): three seconds on, the record
  // expires, and the tab's stream says so within the next 5 s.
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest', { timeout: 3_000 + WITHIN.timeout });
  await expect(page.locator('#sessionEnded')).toBeVisible();
});
