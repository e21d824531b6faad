// What every end-to-end test shares: `test` with this worker's provider and app started
// (the `stack` fixture), and the steps tests repeat — login, the provider's test hooks, waits.
import crypto from 'node:crypto';
import { test as base, expect } from '@playwright/test';
import { TEST } from './settings.js';
import { freePorts, scratchDir, startApp, startProvider } from './processes.js';

export { expect, TEST };

export const test = base.extend({
  // This worker's local provider and app (the server binary on its default store, SQLite, in a
  // scratch directory), on free ports, for all of the worker's tests; see settings.js.
  stack: [async ({}, use) => {
    const [providerPort, appPort, redisPort, ...extraAppPorts] = await freePorts(5);
    Object.assign(TEST, {
      issuer: `http://127.0.0.1:${providerPort}`,
      appUrl: `http://localhost:${appPort}`,
      appPort,
      extraAppPorts,
      redisPort,
    });
    const provider = await startProvider(providerPort);
    TEST.appDatabase = `${scratchDir('e2e')}/sessions.db`;
    const app = await startApp({ port: appPort, sessionStore: `sqlite://${TEST.appDatabase}` });
    await use({ provider, app });
    await app.stop();
    await provider.stop();
  }, { scope: 'worker', auto: true }],

  // After a failed test, the last lines of the worker's app and provider logs.
  logsOnFailure: [async ({ stack }, use, testInfo) => {
    await use();
    if (testInfo.status !== testInfo.expectedStatus) {
      for (const [name, process] of Object.entries(stack)) {
        console.log(`--- ${name} log (last 40 lines) ---\n${process.log().split('\n').slice(-40).join('\n')}`);
      }
    }
  }, { auto: true }],

  // After `stack`, which names the app's address.
  baseURL: async ({ stack }, use) => { // eslint-disable-line no-unused-vars
    await use(TEST.appUrl);
  },
});

/** On the provider's pages: the email, then the one-time code, submitted. */
export async function enterEmailAndCode(page, email) {
  await page.locator('#email').fill(email);
  await page.locator('#continue').click();
  await expect(page.locator('#devCode')).toContainText(TEST.otpCode);
  await page.locator('#code').fill(TEST.otpCode);
  await page.locator('#verify').click();
}

/** On the provider's pages: the email and the one-time code; back at the app, signed in. */
export async function answerProvider(page, email) {
  await enterEmailAndCode(page, email);
  await expect(page.locator('#profileDropDown')).toHaveText(`Welcome ${email}!`);
}

/** Signs in through the local provider's Email + one-time-code pages, from the home page. */
export async function logIn(page, email = 'ada@example.com', appUrl = TEST.appUrl) {
  await page.goto(`${appUrl}/`);
  await page.locator('#qsLoginBtn').click();
  await expect(page).toHaveURL(new RegExp(`^${TEST.issuer}/interaction/`));
  await answerProvider(page, email);
}

/** The signed-in user as `/api/current_user` answers it for the page's cookie (null: a guest). */
export async function currentUser(page, appUrl = TEST.appUrl) {
  const response = await page.request.post(`${appUrl}/api/current_user`, { headers: { origin: appUrl } });
  expect(response.status()).toBe(200);
  return (await response.json()).user;
}

/** How often the session's access token was refreshed (the demo's `/api/token_activity`). */
export async function refreshesOf(page, appUrl = TEST.appUrl) {
  const response = await page.request.post(`${appUrl}/api/token_activity`, { headers: { origin: appUrl } });
  expect(response.status()).toBe(200);
  return (await response.json()).refreshes;
}

/**
 * Waits until the Unix time `at` (seconds) has passed, polling the clock: for a deadline the app
 * itself names (an access token's expiry, a session's end), instead of a sleep with a margin.
 */
async function waitUntil(at, what) {
  await expect.poll(() => Date.now() >= at * 1000, { message: what, intervals: [100], timeout: 20_000 }).toBe(true);
}

/** Waits until the app counts the signed-in user's access token as expired. */
export async function accessTokenExpired(page, appUrl = TEST.appUrl) {
  const user = await currentUser(page, appUrl);
  await waitUntil(user.access_token_expires_at, 'the access token to expire');
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

/** The signed-in user's `sub`, from the claims the home page shows. */
export async function subjectOf(page) {
  return JSON.parse(await page.locator('#claims').textContent()).sub;
}

/** How long an open tab may take to show that its session ended (issue 22's promise). */
export const WITHIN = { timeout: 5_000 };

/** Waits (at most 5 s) until the open page shows the guest view and says the session ended. */
export async function expectGuestWithReason(page) {
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest', WITHIN);
  await expect(page.locator('#sessionEnded')).toBeVisible();
}

/** A signed Authgear event, as the provider would send it; `secret` may be changed to forge. */
export function webhook(type, payload, { timestamp = Math.floor(Date.now() / 1000), secret = TEST.webhookSecret } = {}) {
  const body = JSON.stringify({
    id: crypto.randomUUID(), seq: 1, type, payload,
    context: { app_id: 'test', timestamp, triggered_by: 'admin_api', some_new_field: true },
  });
  const signature = crypto.createHmac('sha256', secret).update(body).digest('hex');
  return { body, signature };
}

/** Posts an Authgear event to the app at `appUrl` (no signature header when `signature` is undefined). */
export function postWebhook(request, appUrl, { body, signature }) {
  const headers = { 'content-type': 'application/json' };
  if (signature !== undefined) headers['x-authgear-body-signature'] = signature;
  return request.post(`${appUrl}/webhooks/authgear`, { headers, data: body });
}

const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** A logout token signed with the provider's own key; `change` edits claims or header. */
export async function logoutToken(request, sub, change = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: TEST.issuer,
    aud: TEST.clientId,
    iat: now,
    exp: now + 120,
    jti: `jti-${Math.random().toString(36).slice(2)}`,
    sub,
    events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    ...change.claims,
  };
  for (const name of change.remove || []) delete claims[name];
  const response = await request.post(`${TEST.issuer}/__test/sign`, { data: { claims, header: change.header } });
  return (await response.json()).jwt;
}
