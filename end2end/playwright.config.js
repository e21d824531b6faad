// End-to-end tests: the release server and the local provider, started here, driven in
// Debian's Chromium (Playwright's own browser download cannot work on these machines).
import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';
import { TEST, appEnvironment } from './tests/support.js';

// The default session store (SQLite), in a directory of this run's own.
const sessionsDb = path.join(os.tmpdir(), `authgear-leptos-e2e-${process.pid}`, 'sessions.db');

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['./summary-reporter.js']],
  use: {
    baseURL: TEST.appUrl,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: 'node provider/server.js',
      url: `${TEST.issuer}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        PROVIDER_PORT: String(TEST.providerPort),
        APP_URL: TEST.appUrl,
        DEMO_OTP_CODE: TEST.otpCode,
        DEMO_CLIENT_ID: TEST.clientId,
        DEMO_CLIENT_SECRET: TEST.clientSecret,
        PROVIDER_TEST_HOOKS: '1',
        EXTRA_APP_URLS: TEST.extraAppPorts.map((port) => `http://localhost:${port}`).join(','),
      },
    },
    {
      command: '../target/release/server',
      url: `${TEST.appUrl}/robots.txt`,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: appEnvironment({ port: TEST.appPort, sessionStore: `sqlite://${sessionsDb}` }),
    },
  ],
});
