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
