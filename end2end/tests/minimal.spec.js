// The smallest app built on leptos-authgear (examples/minimal: one server-rendered page, no
// WASM) logs in and out through the local provider: the crate works outside this demo app.
import { test, expect, TEST, enterEmailAndCode } from './support.js';
import { startApp } from './processes.js';
import { MINIMAL_BINARY } from './settings.js';

let app;
test.beforeAll(async () => {
  app = await startApp({
    port: TEST.extraAppPorts[0], sessionStore: 'memory', binary: MINIMAL_BINARY, readyPath: '/',
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
