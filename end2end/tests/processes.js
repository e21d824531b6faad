// Processes that the tests start, stop and restart themselves: the local provider, app
// instances (the server binary under test) and a real redis-server from Debian's package.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SERVER_BINARY, TEST, appEnvironment } from './settings.js';

/** A fresh temporary directory for one test's files (SQLite database, Redis dump). */
export function scratchDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `authgear-leptos-${name}-`));
}

/** `count` distinct TCP ports that were free on 127.0.0.1 a moment ago. */
export async function freePorts(count) {
  const servers = await Promise.all(Array.from({ length: count }, () => new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  })));
  const ports = servers.map((server) => server.address().port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', resolve));
}

/** Runs `command`; its output collects in `log()`, `stop()` sends SIGTERM and waits. */
function started(command, args, env) {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  return {
    child,
    log: () => log,
    /** SIGTERM, as a service manager would, and wait for the process to end. */
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
}

/**
 * The local provider (provider/server.js) on `port` with its test hooks, the app at
 * `TEST.appUrl` and at each of `TEST.extraAppPorts` registered (`env` changes any of its
 * settings); resolves once it says it is ready.
 */
export async function startProvider(port, env = {}) {
  const provider = started('node', ['provider/server.js'], {
    PROVIDER_PORT: String(port),
    APP_URL: TEST.appUrl,
    DEMO_OTP_CODE: TEST.otpCode,
    DEMO_CLIENT_ID: TEST.clientId,
    DEMO_CLIENT_SECRET: TEST.clientSecret,
    PROVIDER_TEST_HOOKS: '1',
    WEBHOOK_URL: `${TEST.appUrl}/webhooks/authgear`,
    WEBHOOK_SECRET: TEST.webhookSecret,
    EXTRA_APP_URLS: TEST.extraAppPorts.map((extra) => `http://localhost:${extra}`).join(','),
    ...env,
  });
  await waitFor(async () => {
    if (provider.child.exitCode !== null) throw new Error(`the provider on ${port} exited: ${provider.log()}`);
    return provider.log().includes('is ready');
  }, `the provider on port ${port}`);
  return provider;
}

/**
 * Starts the server (or another `binary` built on leptos-authgear) on `port` with
 * `sessionStore`; resolves once `readyPath` answers.
 */
export async function startApp({
  port, sessionStore, env = {}, binary = SERVER_BINARY, readyPath = '/healthz',
}) {
  const app = started(binary, [], appEnvironment({ port, sessionStore, ...env }));
  const url = `http://localhost:${port}`;
  await waitFor(async () => {
    if (app.child.exitCode !== null) throw new Error(`app on ${port} exited: ${app.log()}`);
    return (await fetch(`${url}${readyPath}`)).ok;
  }, `the app on port ${port}`);
  return { url, log: app.log, stop: app.stop };
}

/** Sends one command to Redis and returns the raw reply. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error('redis timeout')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk;
      socket.end();
    });
    socket.on('close', () => resolve(reply));
    socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`);
  });
}

/**
 * A real redis-server on `port`, persisting to `dir` only when asked (`stop` saves, like a
 * clean shutdown of a production Redis with snapshots), so that `start` after `stop` gets the
 * data back.
 */
export function redisServer(port, dir) {
  let child = null;
  return {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
        '--save', '', '--appendonly', 'no', '--protected-mode', 'yes',
      ], { stdio: 'ignore' });
      await waitFor(async () => (await redisCommand(port, 'PING')).startsWith('+PONG'), `redis on ${port}`);
    },
    async stop() {
      if (!child) return;
      const stopped = exited(child);
      await redisCommand(port, 'SHUTDOWN', 'SAVE').catch(() => {});
      await stopped;
      child = null;
    },
    async flush() {
      await redisCommand(port, 'FLUSHALL');
    },
    /** How many session records there are (not counting the owner index and locks). */
    async sessionKeys() {
      // A RESP array of bulk strings: every other line after the header is a key.
      const lines = (await redisCommand(port, 'KEYS', '*')).split('\r\n');
      const keys = lines.slice(1).filter((line, i) => i % 2 === 1);
      const bookkeeping = ['session-owners:', 'refresh-lock:', 'session-version:', 'backchannel-jti:'];
      return keys.filter((key) => !bookkeeping.some((prefix) => key.startsWith(prefix))).length;
    },
  };
}

/** One number from an SQLite database file, read with Python's sqlite3 module. */
export function sqliteCount(file, sql) {
  const script = 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])';
  return Number(execFileSync('python3', ['-c', script, file, sql]).toString().trim());
}
