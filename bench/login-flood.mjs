// The login flood of issue 21, measured: FLOOD_REQUESTS (100,000) cookie-less `GET /login`
// against the release app on its default store (SQLite), once with the per-client rate limit
// off (every call gets a login attempt: the worst case for storage) and once with the default
// limit. Prints how much the session store grew, how the flood was answered, and a signed-in
// user's page latency before the flood (the baseline, same run) and while it runs.
// Run it through bench/login-flood, which builds the release app first.

import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  OTP, fail, nameScript, root, startLocalProvider, startReleaseApp, stopAll,
} from './processes.mjs';

const floodRequests = process.env.FLOOD_REQUESTS || '100000';
const probeSeconds = process.env.FLOOD_PROBE_SECONDS || '8';
const port = { provider: 4300, off: 3300, limited: 3301 };
const appUrl = (p) => `http://localhost:${p}`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'authgear-leptos-flood-'));
const run = promisify(execFile);
const progress = (message) => console.error(`  ${message}`);
nameScript('login-flood');

/** Bytes of the SQLite database and its WAL, and its session rows. */
function storeSize(db) {
  const bytes = ['', '-wal', '-shm']
    .map((suffix) => (fs.existsSync(db + suffix) ? fs.statSync(db + suffix).size : 0))
    .reduce((a, b) => a + b, 0);
  const script = 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from tower_sessions").fetchone()[0])';
  return { bytes, rows: Number(fs.existsSync(db) ? execFileSyncText('python3', ['-c', script, db]) : 0) };
}

function execFileSyncText(command, args) {
  return String(execFileSync(command, args)).trim();
}

/** A signed-in user's page, one request at a time for `seconds`: p50 and p99 latency. */
async function probe(url, cookieFile, seconds) {
  const { stdout } = await run('wrk', ['-t1', '-c1', `-d${seconds}s`, '-s', 'bench/wrk.lua', url], {
    cwd: root, env: { ...process.env, BENCH_COOKIES: cookieFile },
  });
  const result = JSON.parse(stdout.trim().split('\n').pop());
  if (result.socket_errors || result.non_2xx) fail(`probe ${url}: ${JSON.stringify(result)}`);
  return result;
}

/** `floodRequests` cookie-less GETs of `url`, 32 at a time on kept-alive connections. */
async function flood(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const counts = { redirects: 0, limited: 0, other: 0 };
  const total = Number(floodRequests);
  let sent = 0;
  const one = () => new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      if (response.statusCode === 303) counts.redirects += 1;
      else if (response.statusCode === 429) counts.limited += 1;
      else counts.other += 1;
      response.resume();
      response.on('end', resolve);
    });
    request.on('error', () => { counts.other += 1; resolve(); });
  });
  const worker = async () => {
    while (sent < total) {
      sent += 1;
      await one();
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: 32 }, worker));
  const seconds = (performance.now() - begin) / 1000;
  agent.destroy();
  return { requests: total, seconds, ...counts };
}

const issuer = await startLocalProvider(port.provider, [appUrl(port.off), appUrl(port.limited)]);

const rows = [];
for (const [name, limit] of [['rate limit off', 'off'], ['default rate limit (20/1m)', '20/1m']]) {
  const p = limit === 'off' ? port.off : port.limited;
  const db = path.join(scratch, `sessions-${p}.db`);
  await startReleaseApp(`app (${name})`, {
    port: p, issuer, store: `sqlite://${db}`, env: { LOGIN_RATE_LIMIT: limit },
  });
  const cookieFile = path.join(scratch, `cookie-${p}.txt`);
  await run('node', ['bench/login.mjs', appUrl(p), '1', '1', OTP, cookieFile], { cwd: root });
  progress(`${name}: the signed-in page alone`);
  const before = await probe(`${appUrl(p)}/`, cookieFile, probeSeconds);
  const sizeBefore = storeSize(db);
  progress(`${name}: ${floodRequests} cookie-less /login, the signed-in page meanwhile`);
  const [floodResult, during] = await Promise.all([
    flood(`${appUrl(p)}/login`),
    probe(`${appUrl(p)}/`, cookieFile, probeSeconds),
  ]);
  if (floodResult.other) fail(`flood: ${JSON.stringify(floodResult)}`);
  const sizeAfter = storeSize(db);
  rows.push({ name, floodResult, before, during, sizeBefore, sizeAfter });
}

const ms = (us) => (us / 1000).toFixed(2);
console.log(`\nLogin flood: ${floodRequests} cookie-less GET /login (Node, 32 at a time), SQLite store; ${new Date().toISOString()}\n`);
console.log('| run | flood requests/s (node, 32 at a time) | 303 (an attempt) | 429 | store rows before → after | store bytes before → after | signed-in page p50 / p99 ms, alone | while the flood runs |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const { name, floodResult: f, before, during, sizeBefore, sizeAfter } of rows) {
  console.log(`| ${name} | ${Math.round(f.requests / f.seconds)} | ${f.redirects} | ${f.limited} | ${sizeBefore.rows} → ${sizeAfter.rows} | ${sizeBefore.bytes} → ${sizeAfter.bytes} | ${ms(before.p50_us)} / ${ms(before.p99_us)} | ${ms(during.p50_us)} / ${ms(during.p99_us)} |`);
}
stopAll();
fs.rmSync(scratch, { recursive: true, force: true });
