// End-to-end tests: the release server and the local provider, started here, driven in
// Debian's Chromium (Playwright's own browser download cannot work on these machines).
import { defineConfig } from '@playwright/test';
import { TEST } from './tests/support.js';

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
      },
    },
    {
      command: '../target/release/server',
      url: `${TEST.appUrl}/robots.txt`,
      reuseExistingServer: false,
      stdout: 'pipe',
      env: {
        AUTHGEAR_DOMAIN: TEST.issuer,
        AUTHGEAR_CLIENT_ID: TEST.clientId,
        AUTHGEAR_CLIENT_SECRET: TEST.clientSecret,
        AUTHGEAR_SCOPES: '',
        APP_SECRET_KEY: 'end-to-end-tests-only-0123456789abcdef0123456789',
        APP_URL: TEST.appUrl,
        LEPTOS_SITE_ADDR: `127.0.0.1:${TEST.appPort}`,
        PORT: String(TEST.appPort),
        LEPTOS_SITE_ROOT: '../target/site',
        LEPTOS_ENV: 'PROD',
        LOCAL_DEMO_PROVIDER: 'true',
        RUST_LOG: 'info',
      },
    },
  ],
});
