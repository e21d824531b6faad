// End-to-end tests: the release server and the local provider, started by the tests themselves
// (tests/support.js: one of each per worker, on free ports), driven in Debian's Chromium
// (Playwright's own browser download cannot work on these machines).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  // Every worker has a provider and an app of its own: tests of one file may run in either.
  fullyParallel: true,
  workers: Number(process.env.E2E_WORKERS || 2),
  retries: 0,
  reporter: [['list'], ['./summary-reporter.js']],
  // The README's pictures: `npm run screenshots` (in end2end/) writes them again.
  snapshotPathTemplate: '../docs/screenshots/{arg}{ext}',
  expect: { toHaveScreenshot: { maxDiffPixels: 100 } },
  use: {
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
});
