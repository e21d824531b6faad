// The smallest app built on leptos-authgear (examples/minimal: a home page and a page for
// signed-in users, hydrated whole and routed in the browser, as Leptos apps are by default, where
// the demo app uses islands) logs in and out through the local provider, and follows the session
// in the browser: the crate works outside this demo app, in both of its modes. It is configured
// in code, with the login's routes under /auth, its own error page and only the SQLite store
// compiled in.
import { test, expect, TEST, enterEmailAndCode, WITHIN } from './support.js';
import { scratchDir, startApp } from './processes.js';
import { MINIMAL_BINARY, MINIMAL_SITE } from './settings.js';

let app;
test.beforeAll(async () => {
  app = await startApp({
    port: TEST.extraAppPorts[0], sessionStore: 'unused', binary: MINIMAL_BINARY, readyPath: '/',
    env: { LEPTOS_SITE_ROOT: MINIMAL_SITE, SESSIONS_DB: `${scratchDir('minimal')}/sessions.db` },
  });
});
test.afterAll(async () => app?.stop());

test('the minimal consumer: Login, "Signed in as …", a reload, Logout', async ({ page }) => {
  await page.goto(`${app.url}/`);
  await expect(page.locator('#greeting')).toHaveCount(0);
  await page.locator('#login').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, 'minimal@example.com');
  await expect(page).toHaveURL(`${app.url}/`);
  await expect(page.locator('#greeting')).toHaveText('Signed in as minimal@example.com');
  await page.reload();
  await expect(page.locator('#greeting')).toHaveText('Signed in as minimal@example.com');
  const cookies = await page.context().cookies(app.url);
  expect(cookies.map((c) => [c.name, c.httpOnly])).toEqual([['session', true]]);

  await page.locator('#logout').click();
  await expect(page).toHaveURL(new RegExp(`^${app.url}/`));
  await expect(page.locator('#login')).toHaveText('Login');
  await expect(page.locator('#greeting')).toHaveCount(0);
});

test('the minimal consumer: a LoginLink with ui_locales opens the provider\'s pages in that language', async ({ page }) => {
  await page.goto(`${app.url}/`);
  await expect(page.locator('#loginFr')).toHaveAttribute('href', '/auth/login?ui_locales=fr');
  await page.locator('#loginFr').click();
  await expect(page.locator('#loginTitle')).toHaveText('Connexion');
  await enterEmailAndCode(page, 'minimal-fr@example.com');
  await expect(page.locator('#greeting')).toHaveText('Signed in as minimal-fr@example.com');
});

test('the minimal consumer signed in by the test kit (POST /__test/session), without the provider\'s pages', async ({ page, request }) => {
  const minted = await request.post(`${app.url}/__test/session`, {
    headers: { origin: app.url }, data: { sub: 'kit-user', claims: { email: 'kit@example.com' } },
  });
  expect(minted.status()).toBe(200);
  const { cookie } = await minted.json();
  const split = cookie.indexOf('=');
  await page.context().addCookies([{ name: cookie.slice(0, split), value: cookie.slice(split + 1), url: app.url }]);
  const provider = [];
  page.on('request', (req) => { if (req.url().startsWith(TEST.issuer)) provider.push(req.url()); });
  await page.goto(`${app.url}/`);
  await expect(page.locator('#greeting')).toHaveText('Signed in as kit@example.com');
  expect(provider).toEqual([]);
  // Bad input: a clear 400, nothing minted.
  const refused = await request.post(`${app.url}/__test/session`, { headers: { origin: app.url }, data: { claims: {} } });
  expect(refused.status()).toBe(400);
});

test('the minimal consumer hydrated: a logout in another tab turns this one to the Login link, without a reload', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  await first.goto(`${app.url}/`);
  await first.locator('#login').click();
  await enterEmailAndCode(first, 'minimal-tabs@example.com');
  await expect(first.locator('#greeting')).toHaveText('Signed in as minimal-tabs@example.com');
  // A signed-in page tells the browser's other tabs so once it has hydrated (the session
  // watcher's `signed-in`): seen, the second page is interactive.
  await second.addInitScript(() => {
    const post = BroadcastChannel.prototype.postMessage;
    BroadcastChannel.prototype.postMessage = function postMessage(message) {
      if (message === 'signed-in') window.toldSignedIn = true;
      return post.call(this, message);
    };
  });
  await second.goto(`${app.url}/`);
  await second.waitForFunction(() => window.toldSignedIn === true);
  await second.evaluate(() => { window.notReloaded = true; });

  await first.locator('#logout').click();
  await expect(first.locator('#login')).toHaveText('Login');
  await expect(second.locator('#login')).toHaveText('Login', WITHIN);
  await expect(second.locator('#greeting')).toHaveCount(0);
  expect(await second.evaluate(() => window.notReloaded)).toBe(true);
});

test('the minimal consumer\'s private page: a guest is sent to the login by the server, and comes back to it', async ({ page, request }) => {
  const response = await request.get(`${app.url}/private`, { maxRedirects: 0 });
  expect(response.status()).toBe(302);
  expect(response.headers().location).toBe('/auth/login?return_to=/private');
  expect(await response.text()).not.toContain('Only for signed-in users.');

  await page.goto(`${app.url}/private`);
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, 'minimal-private@example.com');
  await expect(page).toHaveURL(`${app.url}/private`);
  await expect(page.locator('#secret')).toHaveText('Only for signed-in users.');
});

// `RequireUser` in an app that hydrates whole and routes in the browser (the demo app, built
// with islands, has no client-side navigation).
test('the minimal consumer hydrated: the router\'s move to the private page sends a guest to the login, shows it to a user, and an open one says when the session ends', async ({ context }) => {
  const page = await context.newPage();
  // The session watcher starts as the page hydrates (`AuthProvider`): then the links are the
  // router's.
  await page.addInitScript(() => {
    const onmessage = Object.getOwnPropertyDescriptor(BroadcastChannel.prototype, 'onmessage');
    Object.defineProperty(BroadcastChannel.prototype, 'onmessage', {
      get() { return onmessage.get.call(this); },
      set(handler) { window.hydrated = true; onmessage.set.call(this, handler); },
    });
  });
  const loads = [];
  page.on('request', (r) => { if (r.resourceType() === 'document') loads.push(new URL(r.url()).pathname); });
  const hydrated = () => page.waitForFunction(() => window.hydrated === true);

  await page.goto(`${app.url}/`);
  await hydrated();
  await page.locator('nav a[href="/private"]').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  // Not a page load of /private: the page, in the browser, loaded the login.
  expect(loads.slice(0, 2)).toEqual(['/', '/auth/login']);
  expect(loads).not.toContain('/private');
  await enterEmailAndCode(page, 'minimal-router@example.com');
  await expect(page).toHaveURL(`${app.url}/private`);
  await expect(page.locator('#secret')).toHaveText('Only for signed-in users.');

  await hydrated();
  await page.locator('nav a[href="/"]').click();
  await expect(page.locator('#greeting')).toHaveText('Signed in as minimal-router@example.com');
  const before = loads.length;
  await page.locator('nav a[href="/private"]').click();
  await expect(page.locator('#secret')).toHaveText('Only for signed-in users.');
  expect(loads.length).toBe(before);
  await page.evaluate(() => { window.notReloaded = true; });

  const other = await context.newPage();
  await other.goto(`${app.url}/`);
  await other.locator('#logout').click();
  await expect(other.locator('#login')).toHaveText('Login');

  const notice = page.locator('.notice[role=status]');
  await expect(notice).toHaveText('Your session has ended. Please log in to see this page.', WITHIN);
  await expect(page.locator('#secret')).toHaveCount(0);
  await expect(notice.locator('a')).toHaveAttribute('href', '/auth/login?return_to=/private');
  expect(await page.evaluate(() => window.notReloaded)).toBe(true);
  await expect(page).toHaveURL(`${app.url}/private`);
});

test('the minimal consumer\'s routes are under /auth, and its error page is its own', async ({ page, request }) => {
  // Nothing of the login's at the root: these are the app's own (unknown) pages.
  for (const path of ['/login', '/callback', '/session/status']) {
    const response = await request.get(`${app.url}${path}`, { maxRedirects: 0 });
    expect(response.status(), path).not.toBe(303);
    expect(response.headers()['content-type'], path).toContain('text/html');
  }
  const status = await request.get(`${app.url}/auth/session/status`);
  expect(await status.json()).toEqual({ signed_in: false });
  const login = await request.get(`${app.url}/auth/login`, { maxRedirects: 0 });
  expect(login.status()).toBe(303);
  expect(login.headers().location).toMatch(new RegExp(`^${TEST.issuer}/oauth2/authorize\\?`));
  expect(new URL(login.headers().location).searchParams.get('redirect_uri')).toBe(`${app.url}/auth/callback`);

  // A callback with a login attempt the app does not know: the app's page, its words, its link.
  const response = await page.goto(`${app.url}/auth/callback?code=x&state=unknown`);
  expect(response.status()).toBe(400);
  await expect(page.locator('#minimalError')).toHaveText('Sign-in link expired');
  await expect(page.getByRole('link', { name: 'Log in again' })).toHaveAttribute('href', '/auth/login');
  await expect(page).toHaveTitle('Sign-in link expired · Minimal');
});

test('the minimal consumer gets the security headers from the crate\'s layer: its page a CSP with the nonce of its scripts', async ({ page, request }) => {
  const violations = [];
  page.on('console', (message) => message.type() === 'error' && violations.push(message.text()));
  page.on('pageerror', (error) => violations.push(error.message));
  const response = await page.goto(`${app.url}/`);
  const headers = response.headers();
  const csp = Object.fromEntries(headers['content-security-policy'].split(';')
    .map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
  const nonce = csp['script-src'].find((v) => v.startsWith("'nonce-")).slice(7, -1);
  expect(csp['script-src']).toEqual(["'self'", `'nonce-${nonce}'`, "'wasm-unsafe-eval'"]);
  expect(csp['frame-ancestors']).toEqual(["'none'"]);
  expect(csp['form-action']).toEqual(["'self'", TEST.issuer]);
  const inline = await page.locator('script:not([src])').evaluateAll((all) => all
    .filter((s) => s.type !== 'application/json').map((s) => s.nonce));
  expect(inline.length).toBeGreaterThan(0);
  for (const scriptNonce of inline) expect(scriptNonce).toBe(nonce);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('no-referrer');
  // Hydrated under the policy: the router's link works without a page load.
  await page.locator('nav a[href="/private"]').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  expect(violations).toEqual([]);
  // JSON and the login's error pages may run no script at all.
  for (const path of ['/auth/session/status', '/auth/callback?code=x&state=unknown']) {
    const other = await request.get(`${app.url}${path}`);
    expect(other.headers()['content-security-policy'], path).toContain("default-src 'none'");
    expect(other.headers()['x-content-type-options'], path).toBe('nosniff');
  }
});
