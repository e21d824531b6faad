// Processes that tests start, stop and restart themselves: more app instances (the release
// binary) and a real redis-server from Debian's package.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { appEnvironment } from './support.js';

/** A fresh temporary directory for one test's files (SQLite database, Redis dump). */
export function scratchDir(name) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `authgear-leptos-${name}-`));
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

/** Starts the release server on `port` with `sessionStore`; resolves once /healthz answers. */
export async function startApp({ port, sessionStore, env = {} }) {
  const child = spawn('../target/release/server', [], {
    env: { ...process.env, ...appEnvironment({ port, sessionStore, ...env }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => { log += chunk; });
  child.stderr.on('data', (chunk) => { log += chunk; });
  const url = `http://localhost:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`app on ${port} exited: ${log}`);
    return (await fetch(`${url}/healthz`)).ok;
  }, `the app on port ${port}`);
  return {
    url,
    log: () => log,
    /** SIGTERM, as a service manager would, and wait for the process to end. */
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
  };
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
      return keys.filter((key) => !key.startsWith('session-owners:') && !key.startsWith('refresh-lock:')).length;
    },
  };
}

/** One number from an SQLite database file, read with Python's sqlite3 module. */
export function sqliteCount(file, sql) {
  const script = 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])';
  return Number(execFileSync('python3', ['-c', script, file, sql]).toString().trim());
}
