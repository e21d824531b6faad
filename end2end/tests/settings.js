// The local provider's fixed test settings, and the addresses of this worker's processes.
import path from 'node:path';

/** The server binary under test: scripts/test builds target/debug/server (E2E_SERVER: another). */
export const SERVER_BINARY = path.resolve(process.env.E2E_SERVER || '../target/debug/server');

/** The minimal consumer of leptos-authgear (examples/minimal), built by scripts/test. */
export const MINIMAL_BINARY = path.resolve(process.env.E2E_MINIMAL || '../target/debug/minimal');

/** Its site root: `pkg/` holds the page's WASM, built by scripts/test. */
export const MINIMAL_SITE = path.resolve(process.env.E2E_MINIMAL_SITE || '../target/minimal-site');

//
// Each Playwright worker is a process of its own with a provider and an app of its own on free
// ports (so that two workers never share the provider's runtime settings); the `stack` fixture
// in support.js fills the addresses in before any test or hook of the worker runs.
export const TEST = {
  otpCode: '246810',
  /** The secret the provider signs its webhooks with, and the app checks them by. */
  webhookSecret: 'webhook-secret-for-end-to-end-tests',
  clientId: 'demo-client',
  clientSecret: 'demo-client-secret-for-local-use-only',
  /** The provider's issuer, http://127.0.0.1:<port>: a host apart from the app's, as Authgear's is. */
  issuer: '',
  /** The worker's app: http://localhost:<port>. */
  appUrl: '',
  appPort: 0,
  /** The worker's app's SQLite file. */
  appDatabase: '',
  /** Ports for the app instances that tests start themselves, registered at the provider. */
  extraAppPorts: [],
  /** A port for a test's own redis-server. */
  redisPort: 0,
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
    // Every test logs in from 127.0.0.1; the limit itself is tested in server/tests/routes.rs.
    LOGIN_RATE_LIMIT: '1000/1m',
    AUTHGEAR_WEBHOOK_SECRET: TEST.webhookSecret,
    // The local provider runs on this machine's clock, and a test signs in a second after an
    // event to check that its redelivery spares the new session: no skew to allow for here
    // (the default, 60 s, is tested in webhook::tests).
    CLOCK_SKEW: '0s',
    // As .env.example: signing out devices from /account needs a login within five minutes.
    RECENT_LOGIN_TO_END_SESSIONS: '5m',
    RUST_LOG: 'info',
    ...extra,
  };
}
