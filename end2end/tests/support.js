// Shared settings and steps for the end-to-end tests.
import { expect } from '@playwright/test';

// Ports apart from the development defaults (3000/4000), so a running `scripts/dev` is no bother.
export const TEST = {
  appPort: 3100,
  providerPort: 4100,
  appUrl: 'http://localhost:3100',
  issuer: 'http://127.0.0.1:4100',
  otpCode: '246810',
  clientId: 'demo-client',
  clientSecret: 'demo-client-secret-for-local-use-only',
};

/** Signs in through the local provider's Email + one-time-code pages, from the home page. */
export async function logIn(page, email = 'ada@example.com') {
  await page.goto('/');
  await page.locator('#qsLoginBtn').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await page.locator('#email').fill(email);
  await page.locator('#continue').click();
  await expect(page.locator('#devCode')).toContainText(TEST.otpCode);
  await page.locator('#code').fill(TEST.otpCode);
  await page.locator('#verify').click();
  await expect(page.locator('#profileDropDown')).toHaveText(`Welcome ${email}!`);
}

/** The tokens the provider last issued (test hook of the local provider). */
export async function lastIssuedTokens(request) {
  const response = await request.get(`${TEST.issuer}/__test/last-tokens`);
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** Waits until the WASM bundle has hydrated the page. */
export async function expectHydrated(page) {
  await expect(page.locator('main.page')).toHaveAttribute('data-hydrated', 'true');
}
