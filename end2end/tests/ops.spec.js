// Operations: health and readiness with the provider up, and --check-config against it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { test, expect, TEST, answerProvider } from './support.js';
import { SERVER_BINARY } from './settings.js';
import { startApp } from './processes.js';

test('healthz and readyz answer 200 when the provider is up', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.text()).toBe('ok');
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ provider: 'ok', session_store: 'ok' });
});

/** `server --check-config` against this worker's provider, with `extra` in the environment. */
function checkConfig(extra = {}) {
  return promisify(execFile)(SERVER_BINARY, ['--check-config'], {
    env: {
      PATH: process.env.PATH,
      AUTHGEAR_DOMAIN: TEST.issuer,
      AUTHGEAR_CLIENT_ID: TEST.clientId,
      AUTHGEAR_CLIENT_SECRET: TEST.clientSecret,
      APP_SECRET_KEY: 'end-to-end-tests-only-0123456789abcdef0123456789',
      APP_URL: TEST.appUrl,
      SESSION_STORE: 'memory',
      ...extra,
    },
    cwd: '/', // no .env to find
  });
}

test('--check-config reports the discovered provider and exits 0', async () => {
  const { stdout } = await checkConfig();
  expect(stdout).toContain('Session store: OK (memory)');
  expect(stdout).toContain('Provider discovery: OK');
  expect(stdout).toContain(`issuer: ${TEST.issuer}`);
  expect(stdout).toContain(`end-session endpoint: ${TEST.issuer}/oauth2/end_session`);
  expect(stdout).toContain('client authentication: client_secret_post');
  expect(stdout).toContain('Authgear webhooks: off (AUTHGEAR_WEBHOOK_SECRET is not set)');
  expect(stdout).toContain('logout at the provider: POST form');
  expect(stdout).toContain("client address: the connection's peer (no TRUSTED_PROXIES)");
  expect(stdout).toContain('limits: 10000 connections, headers within 10s, 8000 event streams (3 per session)');
  expect(stdout).not.toContain(TEST.clientSecret);
  // With a secret: on, at the route's URL, and the secret itself never printed.
  const withWebhooks = await checkConfig({ AUTHGEAR_WEBHOOK_SECRET: TEST.webhookSecret });
  expect(withWebhooks.stdout).toContain(`Authgear webhooks: on, at ${TEST.appUrl}/webhooks/authgear`);
  expect(withWebhooks.stdout).not.toContain(TEST.webhookSecret);
  const behindProxy = await checkConfig({ TRUSTED_PROXIES: '127.0.0.1, 10.0.0.0/8' });
  expect(behindProxy.stdout).toContain('client address: X-Forwarded-For from the trusted proxies 127.0.0.1/32, 10.0.0.0/8');
});

test('an old discovery is done again on the next login, never on a page view', async ({ page }) => {
  const maxAgeMs = 1000;
  const app = await startApp({ port: TEST.extraAppPorts[0], sessionStore: 'memory', env: { AUTHGEAR_DISCOVERY_MAX_AGE: '1s' } });
  const discoveries = () => app.log().split('provider discovered').length - 1;
  try {
    await expect.poll(discoveries).toBe(1); // at start-up
    // Logins, until one finds the start-up discovery old and does it again.
    await expect.poll(async () => {
      await page.request.get(`${app.url}/login`, { maxRedirects: 0 });
      return discoveries();
    }, { intervals: [100] }).toBe(2);
    await page.goto(`${app.url}/`);
    await page.locator('#qsLoginBtn').click();
    await answerProvider(page, 'rediscovery@example.com');
    const afterLogin = discoveries();
    // Signed-in page views and API calls never wait for the provider, however old discovery
    // is: page views until every discovery so far is well past the maximum age, and then more.
    const oldBy = Date.now() + 1.5 * maxAgeMs;
    do {
      await page.reload();
      await expect(page.locator('#profileDropDown')).toHaveText('Welcome rediscovery@example.com!');
    } while (Date.now() < oldBy);
    await page.reload();
    const api = await page.request.post(`${app.url}/api/current_user`, { headers: { origin: app.url } });
    expect((await api.json()).user.email).toBe('rediscovery@example.com');
    expect(discoveries()).toBe(afterLogin);
  } finally {
    await app.stop();
  }
});
