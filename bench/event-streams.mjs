// What "every tab at once" costs the server (issue 22): STREAMS (1,000) signed-in sessions, each
// with one open `GET /session/events` — one per browser, as the tabs share it — against as many
// idle kept-alive connections of the same sessions (the baseline: what any browser holds
// anyway), each on a fresh server, in the same run. Prints the memory (RSS) each state added per
// connection and the CPU over IDLE_SECONDS (60: two keep-alive comments), then how long after a
// logout its stream says `ended`.
// Run it through bench/event-streams, which builds the release app first.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  OTP, nameScript, root, startLocalProvider, startReleaseApp, stop, stopAll,
} from './processes.mjs';

const streams = Number(process.env.STREAMS || 1000);
const idleSeconds = Number(process.env.IDLE_SECONDS || 60);
/** Users without a stream who log out while the streams are open (and, the baseline, while none are). */
const others = Number(process.env.OTHERS || 300);
const port = { provider: 4400, app: 3400 };
const appUrl = `http://localhost:${port.app}`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'authgear-leptos-streams-'));
const run = promisify(execFile);
const progress = (message) => console.error(`  ${message}`);
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
nameScript('event-streams');

/** The server's resident memory (KiB) and CPU time used so far (ms), from /proc. */
function usage(pid) {
  const rss = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKiB: rss, cpuMs: (ticks * 1000) / 100 };
}

/** The server's memory after `idleSeconds` with what is open, and the CPU it used meanwhile. */
async function measureIdle(pid) {
  const before = usage(pid);
  await pause(idleSeconds * 1000);
  const after = usage(pid);
  return { rssKiB: after.rssKiB, cpuMs: after.cpuMs - before.cpuMs };
}

/** A GET on a connection of its own, kept open; resolves with the response once its head came. */
function openRequest(pathname, cookie) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${appUrl}${pathname}`, {
      agent: false,
      headers: { cookie, accept: 'text/event-stream' },
    }, (response) => resolve({ request, response }));
    request.on('error', reject);
  });
}

/** Resolves with the time (ms since `since`) at which `response` says `event: ended`. */
function whenEnded(response) {
  return new Promise((resolve) => {
    let text = '';
    response.on('data', (chunk) => {
      text += chunk;
      if (text.includes('event: ended')) resolve(performance.now());
    });
  });
}

const issuer = await startLocalProvider(port.provider, [appUrl]);
const store = `sqlite://${path.join(scratch, 'sessions.db')}`;
/** A fresh app on the same store (the sessions persist in the file): each state starts clean. */
const startApp = () => startReleaseApp('app', {
  port: port.app, issuer, store, env: { LOGIN_RATE_LIMIT: 'off' },
});

let app = await startApp();
progress(`${streams + 2 * others} logins`);
const cookieFile = path.join(scratch, 'cookies.txt');
await run('node', ['bench/login.mjs', appUrl, String(streams + 2 * others), '8', OTP, cookieFile], { cwd: root });
const everyone = fs.readFileSync(cookieFile, 'utf8').trim().split('\n');
const cookies = everyone.slice(0, streams);
const quiet = [everyone.slice(streams, streams + others), everyone.slice(streams + others)];

/** The server's CPU per logout of `list`'s users, one at a time (none of them has a stream). */
async function cpuPerLogout(pid, list) {
  const before = usage(pid).cpuMs;
  for (const cookie of list) {
    const response = await fetch(`${appUrl}/logout`, {
      method: 'POST', redirect: 'manual', headers: { cookie, origin: appUrl },
    });
    await response.text();
  }
  return (usage(pid).cpuMs - before) / list.length;
}
await stop(app);

/**
 * A fresh app; every session read once (`/session/status`, so that both states hold the same
 * records in the store's cache); then `open` and `idleSeconds` of nothing: the memory it added
 * per connection, and the CPU meanwhile.
 */
async function state(name, open) {
  progress(`${name}, ${idleSeconds} s`);
  app = await startApp();
  const agent = new http.Agent({ keepAlive: true, maxSockets: streams });
  await Promise.all(cookies.map((cookie) => new Promise((resolve, reject) => {
    http.get(`${appUrl}/session/status`, { agent, headers: { cookie } }, (response) => {
      response.resume();
      response.on('end', resolve);
    }).on('error', reject);
  })));
  agent.destroy();
  await pause(1000);
  const before = usage(app.pid);
  const opened = await open();
  const after = await measureIdle(app.pid);
  return { name, opened, before, after };
}

const idle = await state(`${streams} idle kept-alive connections (baseline)`, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: streams });
  await Promise.all(cookies.map((cookie) => new Promise((resolve, reject) => {
    http.get(`${appUrl}/healthz`, { agent, headers: { cookie } }, (response) => {
      response.resume();
      response.on('end', resolve);
    }).on('error', reject);
  })));
  return agent;
});
idle.logoutMs = await cpuPerLogout(app.pid, quiet[0]);
idle.opened.destroy();
await stop(app);

const listening = await state(`${streams} event streams`, async () => {
  const open = await Promise.all(cookies.map((cookie) => openRequest('/session/events', cookie)));
  for (const { response } of open) {
    if (response.statusCode !== 200) throw new Error(`/session/events answered ${response.statusCode}`);
  }
  return open;
});
listening.logoutMs = await cpuPerLogout(app.pid, quiet[1]);
const open = listening.opened;
const ended = open.map(({ response }) => whenEnded(response));

progress('logouts, one at a time, each until its stream says so');
const latencies = [];
for (let i = 0; i < Math.min(100, streams); i += 1) {
  const sent = performance.now();
  const logout = await fetch(`${appUrl}/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookies[i], origin: appUrl },
  });
  await logout.text();
  latencies.push((await ended[i]) - sent);
}
for (const { request } of open) request.destroy();
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];

console.log(`\nEvent streams: ${streams} signed-in sessions, release build, SQLite store, a fresh server per state, ${idleSeconds} s idle; ${new Date().toISOString()}\n`);
console.log(`| open | server RSS before → after (MiB) | bytes per connection | CPU over the idle period (ms) | CPU per logout of another user (${others}, ms) |`);
console.log('|---|---:|---:|---:|---:|');
for (const { name, before, after, logoutMs } of [idle, listening]) {
  const perConnection = ((after.rssKiB - before.rssKiB) * 1024) / streams;
  console.log(`| ${name} | ${(before.rssKiB / 1024).toFixed(1)} → ${(after.rssKiB / 1024).toFixed(1)} | ${Math.round(perConnection).toLocaleString('en')} | ${after.cpuMs.toFixed(0)} | ${logoutMs.toFixed(2)} |`);
}
console.log(`\nFrom a logout's response to its stream's \`ended\` (${latencies.length} logouts, the full request included): p50 ${quantile(0.5).toFixed(1)} ms, p99 ${quantile(0.99).toFixed(1)} ms, max ${latencies.at(-1).toFixed(1)} ms.`);
stopAll();
fs.rmSync(scratch, { recursive: true, force: true });
