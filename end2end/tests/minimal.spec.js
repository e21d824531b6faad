// The smallest app built on leptos-authgear (examples/minimal: one page, hydrated whole, as
// Leptos apps are by default, where the demo app uses islands) logs in and out through the local
// provider, and follows the session in the browser: the crate works outside this demo app, in
// both of its modes.
import { test, expect, TEST, enterEmailAndCode, WITHIN } from './support.js';
import { startApp } from './processes.js';
import { MINIMAL_BINARY, MINIMAL_SITE } from './settings.js';

let app;
test.beforeAll(async () => {
  app = await startApp({
    port: TEST.extraAppPorts[0], sessionStore: 'memory', binary: MINIMAL_BINARY, readyPath: '/',
    env: { LEPTOS_SITE_ROOT: MINIMAL_SITE },
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
