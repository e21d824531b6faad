// Operations: health and readiness with the provider up, and --check-config against it.
import { test, expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEST } from './support.js';

test('healthz and readyz answer 200 when the provider is up', async ({ request }) => {
  const health = await request.get('/healthz');
  expect(health.status()).toBe(200);
  expect(await health.text()).toBe('ok');
  const ready = await request.get('/readyz');
  expect(ready.status()).toBe(200);
  expect(await ready.json()).toEqual({ provider: 'ok', session_store: 'ok' });
});

test('--check-config reports the discovered provider and exits 0', async () => {
  const server = new URL('../../target/release/server', import.meta.url).pathname;
  const { stdout } = await promisify(execFile)(server, ['--check-config'], {
    env: {
      PATH: process.env.PATH,
      AUTHGEAR_DOMAIN: TEST.issuer,
      AUTHGEAR_CLIENT_ID: TEST.clientId,
      AUTHGEAR_CLIENT_SECRET: TEST.clientSecret,
      APP_SECRET_KEY: 'end-to-end-tests-only-0123456789abcdef0123456789',
      APP_URL: TEST.appUrl,
      SESSION_STORE: 'memory',
    },
    cwd: '/', // no .env to find
  });
  expect(stdout).toContain('Session store: OK (memory)');
  expect(stdout).toContain('Provider discovery: OK');
  expect(stdout).toContain(`issuer: ${TEST.issuer}`);
  expect(stdout).toContain(`end-session endpoint: ${TEST.issuer}/oauth2/end_session`);
  expect(stdout).toContain('client authentication: client_secret_post');
  expect(stdout).not.toContain(TEST.clientSecret);
});
