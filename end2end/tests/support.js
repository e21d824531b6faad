// Shared settings and steps for the end-to-end tests.
import { expect } from '@playwright/test';

// Ports apart from the development defaults (3000/4000), so a running `scripts/dev` is no bother.
export const TEST = {
  appPort: 3100,
  providerPort: 4100,
  appUrl: 'http://localhost:3100',
  // Ports of the app instances that tests start themselves (see processes.js).
  extraAppPorts: [3101, 3102],
  redisPort: 6390,
  issuer: 'http://127.0.0.1:4100',
  otpCode: '246810',
  clientId: 'demo-client',
  clientSecret: 'demo-client-secret-for-local-use-only',
};

/** The app server's environment: the local provider, the given port and session store. */
export function appEnvironment({ port, sessionStore, ...extra }) {
  return {
    AUTHGEAR_DOMAIN: TEST.issuer,
    AUTHGEAR_CLIENT_ID: TEST.clientId,
    AUTHGEAR_CLIENT_SECRET: TEST.clientSecret,
    AUTHGEAR_SCOPES: '',
    APP_SECRET_KEY: 'end-to-end-tests-only-0123456789abcdef0123456789',
    APP_URL: `http://localhost:${port}`,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: '../target/site',
    LEPTOS_ENV: 'PROD',
    LOCAL_DEMO_PROVIDER: 'true',
    SESSION_STORE: sessionStore,
    RUST_LOG: 'info',
    ...extra,
  };
}

/** Signs in through the local provider's Email + one-time-code pages, from the home page. */
export async function logIn(page, email = 'ada@example.com', appUrl = TEST.appUrl) {
  await page.goto(`${appUrl}/`);
  await page.locator('#qsLoginBtn').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await answerProvider(page, email);
}

/** On the provider's pages: the email, then the one-time code; back at the app, signed in. */
export async function answerProvider(page, email) {
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

/** Changes the local provider's runtime settings (test hook): token lifetime, rotation, outage. */
export async function providerSettings(request, settings) {
  const response = await request.post(`${TEST.issuer}/__test/settings`, { data: settings });
  expect(response.ok()).toBeTruthy();
  return response.json();
}

/** How many refresh grants the provider has served since the last `resetStats`. */
export async function refreshGrants(request) {
  return (await (await request.get(`${TEST.issuer}/__test/stats`)).json()).refresh_grants;
}

/** Waits until the WASM bundle has hydrated the page. */
export async function expectHydrated(page) {
  await expect(page.locator('div.app')).toHaveAttribute('data-hydrated', 'true');
}
