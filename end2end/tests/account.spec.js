// The protected page (/account, `RequireUser`) and the typed 401 of server functions: what the
// `leptos-authgear` crate gives any app, seen through this one.
import {
  test, expect, TEST, logIn, enterEmailAndCode, expectHydrated, WITHIN,
} from './support.js';

test('a guest who opens /account is redirected by the server to the login, and lands on /account', async ({ page, request }) => {
  const response = await request.get('/account', { maxRedirects: 0 });
  expect(response.status()).toBe(302);
  expect(response.headers().location).toBe('/login?return_to=/account');
  expect(await response.text()).not.toContain('Your account');

  await page.goto('/account');
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, 'account@example.com');
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(page.locator('#accountTitle')).toHaveText('Your account');
  await expect(page.locator('#accountEmail')).toHaveText('account@example.com');
  await expect(page.locator('#loginState')).toHaveText('Signed in as account@example.com');
});

test('signed in, the Account link opens /account; a guest\'s goes to the login', async ({ page }) => {
  // A page load (the app is built with Leptos' islands: docs/decisions/0010-islands.md), served
  // from the page cache.
  await logIn(page, 'nav@example.com');
  await expectHydrated(page);
  await page.locator('#accountLink').click();
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(page.locator('#accountEmail')).toHaveText('nav@example.com');
  await expectHydrated(page);

  // Logged out: the same link, followed in the browser, leads to the login and back.
  await page.locator('#accountLogout').click();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  await expectHydrated(page);
  await page.locator('#accountLink').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/`));
});

test('a server function without a session answers 401 with the typed error, never a redirect', async ({ request }) => {
  for (const path of ['/api/profile']) {
    const response = await request.post(path, { headers: { origin: TEST.appUrl }, maxRedirects: 0 });
    expect(response.status(), path).toBe(401);
    expect(await response.json(), path).toBe('NotSignedIn');
  }
  // Who is signed in is not an error for a guest.
  const who = await request.post('/api/current_user', { headers: { origin: TEST.appUrl } });
  expect(who.status()).toBe(200);
  expect((await who.json()).user).toBeNull();
});

test('on /account a server function gets a fresh access token; once the session has ended, its 401 becomes a login that comes back', async ({ page, context }) => {
  // This tab's event stream fails (as behind a proxy that refuses it), so that it does not hear
  // of the logout below and its next server function call is the first to find out.
  await page.route('**/session/events', (route) => route.abort());
  await page.goto('/account');
  await enterEmailAndCode(page, 'token@example.com');
  await expect(page.locator('#accountTitle')).toHaveText('Your account');
  await expectHydrated(page);
  await page.locator('#checkToken').click();
  await expect(page.locator('#tokenCheck')).toContainText(/^Access token valid until \d\d:\d\d:\d\d UTC; \d+ refreshes so far\.$/);

  // The session ends in another tab of the same browser; this page has not noticed.
  const other = await context.newPage();
  await other.goto('/');
  await other.locator('#qsLogoutBtn').click();
  await expect(other.locator('#profileDropDown')).toHaveText('Welcome Guest');
  await other.close();

  const answered = page.waitForResponse((r) => r.url().endsWith('/api/token_status'));
  await page.locator('#checkToken').click();
  expect((await answered).status()).toBe(401);
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await enterEmailAndCode(page, 'token@example.com');
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(page.locator('#accountTitle')).toHaveText('Your account');
});

test('an open /account hides itself when the session ends in another tab, and its login comes back', async ({ context }) => {
  const page = await context.newPage();
  await page.goto('/account');
  await enterEmailAndCode(page, 'protected@example.com');
  await expect(page.locator('#accountTitle')).toHaveText('Your account');
  await expectHydrated(page);
  await page.evaluate(() => { window.notReloaded = true; });

  const other = await context.newPage();
  await other.goto('/');
  await other.locator('#qsLogoutBtn').click();
  await expect(other.locator('#profileDropDown')).toHaveText('Welcome Guest');
  // `RequireUser`'s island: the account's details go, the reason shows, and the page stays
  // (a move to the provider could race the other tab's logout there).
  await expect(page.locator('.notice[role=status]')).toHaveText('Your session has ended. Please log in to see this page.', WITHIN);
  await expect(page.locator('#accountTitle')).toBeHidden();
  await expect(page.locator('#loginState')).toHaveText('Not signed in');
  expect(await page.evaluate(() => window.notReloaded)).toBe(true);
  await page.getByRole('link', { name: 'log in', exact: true }).click();
  await enterEmailAndCode(page, 'protected@example.com');
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(page.locator('#accountEmail')).toHaveText('protected@example.com');
});
