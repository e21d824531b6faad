// The product around the login: sign-up, account settings, "Log in again", accessibility
// (axe-core, keyboard only) and the page as the README shows it.
import AxeBuilder from '@axe-core/playwright';
import {
  test, expect, TEST, logIn, answerProvider, expectHydrated,
} from './support.js';

async function expectNoAxeViolations(page, what) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const summary = violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(summary, what).toEqual([]);
}

test('"Sign up" opens the provider\'s sign-up page directly (x_page=signup)', async ({ page }) => {
  await page.goto('/');
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${TEST.issuer}/oauth2/authorize`));
  await page.locator('#qsSignupBtn').click();
  expect(new URL((await authorize).url()).searchParams.get('x_page')).toBe('signup');
  await expect(page.locator('#signupTitle')).toHaveText('Create your account');
});

test('"Manage account" leads to <issuer>/settings; "Log in again" asks the provider again', async ({ page }) => {
  await logIn(page, 'settings@example.com');
  await expect(page.locator('#emailVerified')).toHaveText('verified');
  await expect(page.locator('#loginState')).toHaveText('Signed in as settings@example.com');
  await expect(page.locator('#manageAccount')).toHaveAttribute('href', `${TEST.issuer}/settings`);
  await page.locator('#manageAccount').click();
  await expect(page.locator('#accountSettings')).toHaveText('Account settings');

  // The provider's session is still alive: without prompt=login it would not ask at all.
  await page.goto('/');
  const authorize = page.waitForRequest((r) => r.url().startsWith(`${TEST.issuer}/oauth2/authorize`));
  await page.locator('#loginAgain').click();
  expect(new URL((await authorize).url()).searchParams.get('prompt')).toBe('login');
  await expect(page.locator('#loginTitle')).toHaveText('Sign in');
  await answerProvider(page, 'settings@example.com');
});

test('unknown login options are refused', async ({ request }) => {
  for (const query of ['screen=admin', 'prompt=select_account', 'prompt=consent%20login', 'max_age=-1', 'max_age=soon']) {
    const response = await request.get(`/login?${query}`, { maxRedirects: 0 });
    expect(response.status(), query).toBe(400);
  }
});

for (const colorScheme of ['light', 'dark']) {
  test(`axe-core finds no violations on the guest, signed-in and error pages (${colorScheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    await expectHydrated(page);
    await expectNoAxeViolations(page, 'guest page');

    await logIn(page, `axe-${colorScheme}@example.com`);
    await expectHydrated(page);
    await page.locator('#claimsBlock summary').click();
    await expectNoAxeViolations(page, 'signed-in page');

    const error = await page.goto('/callback?state=unknown&code=x');
    expect(error.status()).toBe(400);
    await expectNoAxeViolations(page, 'error page');
  });
}

test('keyboard only: Tab to Login, Enter, type, Enter — signed in', async ({ page }) => {
  await page.goto('/');
  await expectHydrated(page);
  for (let presses = 0; presses < 10; presses += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.id) === 'qsLoginBtn') break;
  }
  expect(await page.evaluate(() => document.activeElement?.id)).toBe('qsLoginBtn');
  await page.keyboard.press('Enter');
  await expect(page.locator('#email')).toBeFocused();
  await page.keyboard.type('keyboard@example.com');
  await page.keyboard.press('Enter');
  await expect(page.locator('#code')).toBeFocused();
  await page.keyboard.type(TEST.otpCode);
  await page.keyboard.press('Enter');
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome keyboard@example.com!');
  // The claims open from the keyboard too.
  await page.locator('#claimsBlock summary').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#claims')).toBeVisible();
});

// The page looks as the README's screenshots (docs/screenshots/) show it, but for at most 100
// pixels (a recoloured Login button is 2,865); on a difference the actual and diff images are in
// test-results/.
// `npm run screenshots` (in end2end/) writes the README's pictures again.
test('screenshots: guest and signed in, light and dark, as in the README', async ({ page }) => {
  await page.setViewportSize({ width: 960, height: 720 });
  // Times change on every run; masked, the pictures stay the same.
  const mask = [page.locator('#sessionEnds'), page.locator('#tokenStatus')];
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    await expectHydrated(page);
    await expect(page).toHaveScreenshot(`guest-${colorScheme}.png`);
  }
  await logIn(page, 'ada@example.com');
  for (const colorScheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme });
    await page.goto('/');
    await expectHydrated(page);
    await expect(page).toHaveScreenshot(`signed-in-${colorScheme}.png`, { mask, maskColor: '#8a8f98' });
  }
});
