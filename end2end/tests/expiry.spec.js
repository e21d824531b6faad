// The warning before the session ends (the crate's SessionExpiryWarning, in the demo's layout):
// an app started with a 12-second idle timeout and an 18-second limit, two tabs of one browser,
// and nothing but waits on what the pages show.
import {
  test, expect, TEST, logIn, expectHydrated, WITHIN,
} from './support.js';
import { startApp, scratchDir } from './processes.js';

// A port of this worker's that no spec holds for a whole file (minimal.spec.js and
// hostile.spec.js keep an app on the first one, and a worker may run this test between theirs).
const appPort = () => TEST.extraAppPorts[1];

test('the warning shows in every tab before the idle timeout; "Stay signed in" hides it in all; the limit has its own; the end shows in every tab', async ({ page, context }) => {
  test.setTimeout(60_000);
  const app = await startApp({
    port: appPort(),
    sessionStore: `sqlite://${scratchDir('expiry')}/sessions.db`,
    env: { SESSION_IDLE_TIMEOUT: '12s', SESSION_MAX_LIFETIME: '18s' },
  });
  try {
    // A guest's page has no warning and does not load its script.
    const scripts = [];
    page.on('request', (request) => scripts.push(request.url()));
    await page.goto(`${app.url}/`);
    await expect(page.locator('.expiry-warning')).toHaveCount(0);
    expect(scripts.some((url) => url.includes('expiry-warning.js'))).toBe(false);

    await logIn(page, 'expiry@example.com', app.url);
    const second = await context.newPage();
    await second.goto(`${app.url}/account`);
    await expectHydrated(second);
    const warnings = [page, second].map((tab) => tab.locator('.expiry-warning'));
    for (const warning of warnings) await expect(warning).toBeHidden();

    // `before=120`, capped at a third of the idle timeout: 4 s before the end, in both tabs.
    for (const warning of warnings) await expect(warning).toBeVisible({ timeout: 15_000 });
    for (const warning of warnings) {
      await expect(warning.locator('[data-idle]')).toBeVisible();
      await expect(warning.locator('[data-idle] [data-countdown]')).toHaveText(/^0:0[0-4]$/);
    }

    // "Stay signed in" in one tab hides it in both at once.
    await warnings[0].getByRole('button', { name: 'Stay signed in' }).click();
    for (const warning of warnings) await expect(warning).toBeHidden(WITHIN);

    // The next end is the session's limit, which staying cannot move: its own words, no button.
    for (const warning of warnings) {
      await expect(warning.locator('[data-limit]')).toBeVisible({ timeout: 15_000 });
      await expect(warning.locator('[data-idle]')).toBeHidden();
      await expect(warning.getByRole('button', { name: 'Stay signed in' })).toBeHidden();
    }

    // When the session ends, every tab shows it, as without the warning; the warning goes.
    for (const tab of [page, second]) {
      await expect(tab.locator('#loginState')).toHaveText('Not signed in', { timeout: 15_000 });
    }
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    for (const warning of warnings) await expect(warning).toBeHidden(WITHIN);
  } finally {
    await app.stop();
  }
});
