// The provider's pages in the user's language (OpenID Connect's `ui_locales`, which Authgear
// honours): from the login's query, from the browser's Accept-Language when the app says so,
// from the app's default. The local provider speaks English and French.
import {
  test, expect, TEST, enterEmailAndCode, currentUser,
} from './support.js';
import { startApp, scratchDir } from './processes.js';

// A port of this worker's that no spec holds for a whole file (minimal.spec.js and
// hostile.spec.js keep an app on the first one, and a worker may run this test between theirs).
const appPort = () => TEST.extraAppPorts[1];

/** The next authorize request's `ui_locales` (null: none sent). */
function authorizeLocales(page) {
  return page.waitForRequest((req) => req.url().startsWith(`${TEST.issuer}/oauth2/authorize`))
    .then((req) => new URL(req.url()).searchParams.get('ui_locales'));
}

test('/login?ui_locales=fr: the authorize request carries it, the provider\'s pages are in French, the login completes', async ({ page }) => {
  const sent = authorizeLocales(page);
  await page.goto('/login?ui_locales=fr&return_to=/account');
  expect(await sent).toBe('fr');
  await expect(page.locator('html')).toHaveAttribute('lang', 'fr');
  await expect(page.locator('#loginTitle')).toHaveText('Connexion');
  await expect(page.locator('#continue')).toHaveText('Continuer');
  await enterEmailAndCode(page, 'francais@example.com');
  await expect(page).toHaveURL(`${TEST.appUrl}/account`);
  expect((await currentUser(page)).email).toBe('francais@example.com');
});

test('no ui_locales: none is sent and the pages are in English; a malformed one is a 400', async ({ page, request }) => {
  const sent = authorizeLocales(page);
  await page.goto('/login');
  expect(await sent).toBeNull();
  await expect(page.locator('html')).toHaveAttribute('lang', 'en');
  await expect(page.locator('#loginTitle')).toHaveText('Sign in');

  for (const bad of ['%3Cscript%3E', 'fr_FR', 'a+b+c+d+e+f', '']) {
    const response = await request.get(`/login?ui_locales=${bad}`, { maxRedirects: 0 });
    expect(response.status(), bad).toBe(400);
  }
});

test('an app that takes the browser\'s language: Accept-Language first, the query over it, the default without either', async ({ browser }) => {
  const app = await startApp({
    port: appPort(),
    sessionStore: `sqlite://${scratchDir('locales')}/sessions.db`,
    env: { UI_LOCALES_FROM_ACCEPT_LANGUAGE: 'true', AUTHGEAR_UI_LOCALES: 'en' },
  });
  try {
    const french = await browser.newContext({ locale: 'fr-FR' });
    const page = await french.newPage();
    let sent = authorizeLocales(page);
    await page.goto(`${app.url}/login`);
    expect(await sent).toBe('fr-FR');
    await expect(page.locator('#loginTitle')).toHaveText('Connexion');

    sent = authorizeLocales(page);
    await page.goto(`${app.url}/login?ui_locales=en`);
    expect(await sent).toBe('en');
    await expect(page.locator('#loginTitle')).toHaveText('Sign in');
    await french.close();

    // No Accept-Language at all: the app's default.
    const response = await fetch(`${app.url}/login`, { redirect: 'manual', headers: { 'accept-language': '' } });
    expect(response.status).toBe(303);
    expect(new URL(response.headers.get('location')).searchParams.get('ui_locales')).toBe('en');
  } finally {
    await app.stop();
  }
});
