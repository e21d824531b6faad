// Silent sign-in (`prompt=none`): a guest whose provider session is alive comes back signed in
// without seeing a page; one without comes back a guest to the page it started from, never to an
// error page. SILENT_LOGIN_ONCE tries it by itself, once per browser session.
import {
  test, expect, TEST, logIn, currentUser,
} from './support.js';
import { startApp, scratchDir } from './processes.js';

// A port of this worker's that no spec holds for a whole file (minimal.spec.js and
// hostile.spec.js keep an app on the first one, and a worker may run this test between theirs).
const appPort = () => TEST.extraAppPorts[1];

/** Records the `prompt` of every authorize request `page` makes, and whether a provider page showed. */
function watchProvider(page) {
  const seen = { prompts: [], pages: 0 };
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!request.url().startsWith(TEST.issuer)) return;
    if (url.pathname === '/oauth2/authorize') seen.prompts.push(url.searchParams.get('prompt'));
    if (url.pathname.startsWith('/interaction/') && request.isNavigationRequest()) seen.pages += 1;
  });
  return seen;
}

test('/login?prompt=none: back signed in without a page while the provider\'s session lives; back a guest where it started without one', async ({ page, browser }) => {
  await logIn(page, 'silent@example.com');
  // The app forgets this browser (its cookies are localhost's); the provider's session stays.
  await page.context().clearCookies({ domain: 'localhost' });
  expect(await currentUser(page)).toBeNull();
  const seen = watchProvider(page);
  await page.goto('/login?prompt=none&return_to=/account');
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  await expect(page.locator('#accountEmail')).toHaveText('silent@example.com');
  expect(seen).toEqual({ prompts: ['none'], pages: 0 });

  const fresh = await browser.newContext({ baseURL: TEST.appUrl });
  const guest = await fresh.newPage();
  const guestSeen = watchProvider(guest);
  const response = await guest.goto('/login?prompt=none&return_to=/');
  expect(response.status()).toBe(200);
  await expect(guest).toHaveURL(`${TEST.appUrl}/`);
  await expect(guest.locator('#profileDropDown')).toHaveText('Welcome Guest');
  expect(guestSeen).toEqual({ prompts: ['none'], pages: 0 });
  await fresh.close();
});

test('SILENT_LOGIN_ONCE: a guest\'s first page tries once per browser session, signs in when it can, and never after a logout', async ({ browser }) => {
  test.setTimeout(60_000);
  const app = await startApp({
    port: appPort(),
    sessionStore: `sqlite://${scratchDir('silent')}/sessions.db`,
    env: { SILENT_LOGIN_ONCE: 'true' },
  });
  try {
    // No provider session: the first page goes to the provider and back, a guest; the next
    // page does not try again.
    const first = await browser.newContext();
    const page = await first.newPage();
    const seen = watchProvider(page);
    await page.goto(`${app.url}/`);
    await expect(page).toHaveURL(`${app.url}/`);
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    await page.goto(`${app.url}/`);
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    expect(seen).toEqual({ prompts: ['none'], pages: 0 });
    await first.close();

    // A browser whose provider session lives (signed in to the other app), new to this one:
    // signed in by its first page, without a page of the provider's.
    const second = await browser.newContext();
    const other = await second.newPage();
    await logIn(other, 'silent-once@example.com');
    await second.clearCookies({ domain: 'localhost' });
    const watched = watchProvider(other);
    await other.goto(`${app.url}/account`);
    await expect(other).toHaveURL(`${app.url}/account`);
    await expect(other.locator('#accountEmail')).toHaveText('silent-once@example.com');
    expect(watched.prompts).toEqual(['none']);

    // After a logout, no silent sign-in in this browser session.
    await other.goto(`${app.url}/`);
    await other.locator('#qsLogoutBtn').click();
    await expect(other.locator('#profileDropDown')).toHaveText('Welcome Guest');
    await other.goto(`${app.url}/`);
    await expect(other.locator('#profileDropDown')).toHaveText('Welcome Guest');
    expect(watched.prompts).toEqual(['none']);
    await second.close();
  } catch (error) {
    console.log(app.log().split('\n').slice(-30).join('\n'));
    throw error;
  } finally {
    await app.stop();
  }
});
