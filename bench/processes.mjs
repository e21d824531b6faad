// The servers a benchmark script starts, and how it gives up: shared by bench/measure.mjs and
// bench/login-flood.mjs.

import { spawn } from 'node:child_process';
import path from 'node:path';

export const root = path.resolve(import.meta.dirname, '..');
const children = [];
let label = 'bench';

/** Names the script in its failure messages. */
export function nameScript(name) {
  label = name;
}

/** Starts `command` in the repository's root; its exit fails the script unless it was stopped. */
export function start(name, command, args, env) {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-4000); });
  child.on('exit', (code, signal) => {
    if (!child.stopping) fail(`${name} exited (${code ?? signal}):\n${log}`);
  });
  children.push(child);
  return child;
}

export function stopAll() {
  for (const child of children) {
    child.stopping = true;
    child.kill('SIGTERM');
  }
}

export function fail(message) {
  console.error(`${label}: ${message}`);
  stopAll();
  process.exit(1);
}

/** Waits (up to 30 s) until `url` answers 2xx. */
export async function waitFor(url) {
  for (let tries = 0; tries < 300; tries += 1) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`${url} did not answer`);
}

/** The one-time code the local provider accepts in the benchmarks. */
export const OTP = '135790';

/**
 * The local provider on `port`, with `appUrls` registered (the first as APP_URL, the others as
 * EXTRA_APP_URLS); resolves once it answers. Returns its issuer.
 */
export async function startLocalProvider(port, appUrls) {
  start('provider', 'node', ['end2end/provider/server.js'], {
    PROVIDER_PORT: String(port),
    APP_URL: appUrls[0],
    EXTRA_APP_URLS: appUrls.slice(1).join(','),
    DEMO_OTP_CODE: OTP,
  });
  const issuer = `http://127.0.0.1:${port}`;
  await waitFor(`${issuer}/.well-known/openid-configuration`);
  return issuer;
}

/**
 * The release server (target/release/server) on `port` against the local provider at `issuer`,
 * its sessions in `store`, with `env` on top; resolves once it is ready. Returns the process.
 */
export async function startReleaseApp(name, { port, issuer, store, env = {} }) {
  const app = start(name, 'target/release/server', [], {
    AUTHGEAR_DOMAIN: issuer,
    AUTHGEAR_CLIENT_ID: 'demo-client',
    AUTHGEAR_CLIENT_SECRET: 'demo-client-secret-for-local-use-only',
    APP_SECRET_KEY: 'benchmark-only-0123456789abcdef0123456789abcdef',
    APP_URL: `http://localhost:${port}`,
    LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
    LEPTOS_SITE_ROOT: 'target/site',
    LEPTOS_ENV: 'PROD',
    SESSION_STORE: store,
    RUST_LOG: 'warn',
    ...env,
  });
  await waitFor(`http://localhost:${port}/readyz`);
  return app;
}

/** Stops one process started here (SIGTERM) and waits for it to end. */
export async function stop(child) {
  child.stopping = true;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
