// The measurements behind bench/run: starts the local provider, the release app (default
// SQLite store, and a second one on the memory store), the bare baseline and the guide's Flask
// app (bench/flask, gunicorn with 2 workers), logs users in without a browser, drives the pages
// with wrk, and prints one table. Run it through bench/run, which installs and builds what it
// needs first.
//
// BENCH_ROUNDS (3) rounds of BENCH_SECONDS (5) per wrk run, BENCH_CONNECTIONS (32),
// BENCH_SESSIONS (10000) for the memory figure, BENCH_LOGINS (1000) for the login rate.
//
// In each round the baseline runs between every two loads, and each load is compared with the
// baseline runs on either side of it; the table gives the median of the rounds and the range
// of the ratios. Then the baseline and the app run again under callgrind, which counts the
// instructions each request costs: a figure that stays put between runs, where requests/s move.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { fail, root, start, stopAll, waitFor } from './processes.mjs';

const seconds = process.env.BENCH_SECONDS || '5';
const rounds = Number(process.env.BENCH_ROUNDS || 3);
const connections = process.env.BENCH_CONNECTIONS || '32';
const sessionCount = Number(process.env.BENCH_SESSIONS || 10_000);
const loginCount = Number(process.env.BENCH_LOGINS || 1_000);
// Signed-in users of the Flask app, whose cookies the wrk run takes in turn.
const flaskLogins = 200;
const otp = '135790';
const SIGNED_IN_ROW = 'logged-in GET / (SQLite store)';
const FLASK_ROW = "the guide's Flask app, logged-in GET / (gunicorn, 2 workers)";
const port = { provider: 4200, app: 3200, memoryApp: 3201, flask: 3202, countedApp: 3203, bare: 3299, countedBare: 3298 };
const issuer = `http://127.0.0.1:${port.provider}`;
const appUrl = (p) => `http://localhost:${p}`;
// The local provider's client, as both apps (this one and the guide's Flask app) are told it.
const providerClient = {
  AUTHGEAR_DOMAIN: issuer,
  AUTHGEAR_CLIENT_ID: 'demo-client',
  AUTHGEAR_CLIENT_SECRET: 'demo-client-secret-for-local-use-only',
};
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'authgear-leptos-bench-'));
// Asynchronous on purpose: the servers' logs are read on this process' event loop, and a
// blocked loop would fill their pipes and stall them.
const run = promisify(execFile);
const progress = (message) => console.error(`  ${message}`);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory in KiB. */
function rssKiB(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

function appEnv(p, sessionStore) {
  return {
    ...providerClient,
    APP_SECRET_KEY: 'benchmark-only-0123456789abcdef0123456789abcdef',
    APP_URL: appUrl(p),
    LEPTOS_SITE_ADDR: `127.0.0.1:${p}`,
    LEPTOS_SITE_ROOT: 'target/site',
    LEPTOS_ENV: 'PROD',
    LOCAL_DEMO_PROVIDER: 'true',
    SESSION_STORE: sessionStore,
    // Thousands of logins from one address, on purpose.
    LOGIN_RATE_LIMIT: 'off',
  };
}

async function logIn(url, count, concurrency, cookieFile = '') {
  progress(`${count} logins at ${url}`);
  const { stdout } = await run('node', ['bench/login.mjs', url, String(count), String(concurrency), otp, cookieFile], {
    cwd: root,
  });
  return JSON.parse(stdout.trim().split('\n').pop());
}

/** One wrk run (after a 1-second warm-up); fails the bench on any error or non-2xx answer. */
async function wrk(url, env = {}) {
  progress(`wrk ${url} ${env.BENCH_COOKIES ? 'with session cookies' : ''}`);
  const load = async (duration) => {
    const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '-s', 'bench/wrk.lua', url], {
      cwd: root,
      env: { ...process.env, ...env },
    });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  await load(1);
  const result = await load(seconds);
  if (result.socket_errors || result.non_2xx) fail(`wrk ${url}: ${JSON.stringify(result)}`);
  return { ...result, rps: result.requests / (result.duration_us / 1e6) };
}

/** Sessions on the baseline's `/session/new`: one `session=…` cookie per line in `file`. */
async function bareSessions(count, file, baseUrl = `http://127.0.0.1:${port.bare}`) {
  const cookies = [];
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${baseUrl}/session/new`);
    const cookie = (response.headers.get('set-cookie') || '').split(';')[0];
    if (!response.ok || !cookie.startsWith('session=')) fail(`the baseline's /session/new answered ${response.status}`);
    cookies.push(cookie);
  }
  fs.writeFileSync(file, `${cookies.join('\n')}\n`);
}

async function expectPage(url, cookie, text) {
  const body = await fetch(url, { headers: cookie ? { cookie } : {} }).then((r) => r.text());
  if (!body.includes(text)) fail(`${url} does not show "${text}"`);
}

function size(file) {
  const bytes = fs.readFileSync(path.join(root, 'target/site/pkg', file));
  return { raw: bytes.length, gzip: zlib.gzipSync(bytes, { level: 9 }).length };
}

// --- Processes ------------------------------------------------------------------------------
start('provider', 'node', ['end2end/provider/server.js'], {
  PROVIDER_PORT: String(port.provider),
  APP_URL: appUrl(port.app),
  EXTRA_APP_URLS: [appUrl(port.memoryApp), appUrl(port.flask), appUrl(port.countedApp)].join(','),
  DEMO_OTP_CODE: otp,
  PROVIDER_TEST_HOOKS: '1',
});
const app = start('app', 'target/release/server', [], appEnv(port.app, `sqlite://${scratch}/sessions.db`));
await waitFor(`${issuer}/.well-known/openid-configuration`);
await waitFor(`${appUrl(port.app)}/readyz`);
const guestCopy = path.join(scratch, 'guest.html');
fs.writeFileSync(guestCopy, await fetch(`${appUrl(port.app)}/`).then((r) => r.text()));
start('bare baseline', 'target/release/bare-baseline', [], {
  BARE_ADDR: `127.0.0.1:${port.bare}`,
  BARE_COPY_FILE: guestCopy,
});
await waitFor(`http://127.0.0.1:${port.bare}/`);
// The guide's configuration; Authlib refuses http:// endpoints unless told that this is a test.
start('Flask app', 'bench/flask/.venv/bin/gunicorn', ['--workers', '2', '--bind', `127.0.0.1:${port.flask}`, '--chdir', 'bench/flask', 'app:app'], {
  ...providerClient,
  APP_SECRET_KEY: 'benchmark-only-flask',
  AUTHLIB_INSECURE_TRANSPORT: '1',
});
await waitFor(`${appUrl(port.flask)}/`);

// --- Logins and throughput on the default store (SQLite) ------------------------------------
const cookieFile = path.join(scratch, 'cookies.txt');
const cpuBefore = cpuSeconds(app.pid);
const logins = await logIn(appUrl(port.app), loginCount, 8, cookieFile);
const cpuPerLogin = (cpuSeconds(app.pid) - cpuBefore) / logins.logins;
const someCookie = fs.readFileSync(cookieFile, 'utf8').split('\n')[0];
await expectPage(`${appUrl(port.app)}/`, someCookie, 'id="qsLogoutBtn"');
await expectPage(`${appUrl(port.app)}/`, '', 'Welcome Guest');

const flaskCookieFile = path.join(scratch, 'flask-cookies.txt');
await logIn(appUrl(port.flask), flaskLogins, 8, flaskCookieFile);
await expectPage(`${appUrl(port.flask)}/`, fs.readFileSync(flaskCookieFile, 'utf8').split('\n')[0], 'id="qsLogoutBtn"');

const bareCookieFile = path.join(scratch, 'bare-cookies.txt');
await bareSessions(loginCount, bareCookieFile);

const providerRequests = async () => (await fetch(`${issuer}/__test/stats`).then((r) => r.json())).requests;
const bareBytes = (await fetch(`http://127.0.0.1:${port.bare}/`).then((r) => r.text())).length;
const guestBytes = fs.statSync(guestCopy).size;
const loads = [
  [`bare axum page (${bareBytes} B): the baseline`, `http://127.0.0.1:${port.bare}/`],
  [`bare axum, a copy of the guest page (${guestBytes} B)`, `http://127.0.0.1:${port.bare}/copy`],
  ['bare axum + the session layer, one record read (memory store)', `http://127.0.0.1:${port.bare}/session`, {
    BENCH_COOKIES: bareCookieFile,
  }],
  ['guest GET /', `${appUrl(port.app)}/`],
  [SIGNED_IN_ROW, `${appUrl(port.app)}/`, { BENCH_COOKIES: cookieFile }],
  ['/api/current_user (SQLite store)', `${appUrl(port.app)}/api/current_user`, {
    BENCH_COOKIES: cookieFile, BENCH_METHOD: 'POST', BENCH_ORIGIN: appUrl(port.app),
  }],
  [FLASK_ROW, `${appUrl(port.flask)}/`, { BENCH_COOKIES: flaskCookieFile }],
];
// The baseline runs before every other load and once more at the end of each round; a load's
// ratio is to the mean of the baseline runs just before and just after it. The machine's speed
// drifts within a round (the baseline alone moved by 30% between runs a minute apart), and a
// baseline measured once at the start of a round would count that drift against the loads at
// its end.
const runs = loads.map(() => []);
let providerCalls = 0;
const ratios = loads.map(() => []);
const [[, baselineUrl]] = loads;
for (let round = 1; round <= rounds; round++) {
  progress(`round ${round} of ${rounds}`);
  let before = await wrk(baselineUrl);
  runs[0].push(before);
  for (const [index, [, url, env]] of loads.entries()) {
    if (index === 0) continue;
    // Only this app's loads count (the Flask app would refresh, once, an expired token).
    const counted = url.startsWith(appUrl(port.app));
    const callsBefore = counted ? await providerRequests() : 0;
    const result = await wrk(url, env);
    if (counted) providerCalls += (await providerRequests()) - callsBefore;
    const after = await wrk(baselineUrl);
    runs[index].push(result);
    runs[0].push(after);
    ratios[index].push(result.rps / ((before.rps + after.rps) / 2));
    before = after;
  }
}
ratios[0] = runs[0].map(() => 1);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = loads.map(([name], index) => {
  const pick = (key) => median(runs[index].map((r) => r[key]));
  const ratio = median(ratios[index]);
  return [name, { rps: pick('rps'), p50_us: pick('p50_us'), p99_us: pick('p99_us'), ratio, ratios: ratios[index] }];
});

// Signed-in page views of this app per signed-in page view of the guide's, round by round.
const rowRuns = (name) => runs[loads.findIndex(([row]) => row === name)];
const timesFlask = rowRuns(SIGNED_IN_ROW).map((r, round) => r.rps / rowRuns(FLASK_ROW)[round].rps);

// --- Instructions per request (callgrind) ---------------------------------------------------
// The baseline and the app (SQLite store) again, each under callgrind, after the wrk runs
// (their processes above are left alone). Each load gets 50 requests to warm up, then 400
// counted ones, one at a time over one connection; only the server's own user-space
// instructions count: not the kernel's, not the client's. Same binaries, same requests: the
// count repeats to within 2% from run to run, where requests/s moved by 15% between runs
// minutes apart, so it tells whether a change made the server's work smaller.
const countedRequests = 400;
function underCallgrind(name, binary, env) {
  const out = path.join(scratch, `callgrind-${name}.out`);
  const child = start(`${name} (callgrind)`, 'valgrind', ['--tool=callgrind', '--quiet', `--callgrind-out-file=${out}`, binary], env);
  // Each `callgrind_control -d` writes the next of <out>.1, <out>.2, …
  let dumps = 0;
  child.nextDump = () => `${out}.${(dumps += 1)}`;
  return child;
}
async function instructionsPerRequest(child, url, { cookies = [], origin } = {}) {
  progress(`callgrind: ${url}`);
  // As wrk sends them (bench/wrk.lua): the session cookies in turn, and a server-function
  // call's Origin and form content type.
  const headers = (i) => ({
    ...(cookies.length ? { cookie: cookies[i % cookies.length] } : {}),
    ...(origin ? { origin, 'content-type': 'application/x-www-form-urlencoded' } : {}),
  });
  const send = async (count) => {
    for (let i = 0; i < count; i += 1) {
      const response = await fetch(url, { method: origin ? 'POST' : 'GET', headers: headers(i) });
      await response.arrayBuffer();
      if (!response.ok) fail(`${url} answered ${response.status} under callgrind`);
    }
  };
  await send(50);
  await run('callgrind_control', ['-z', String(child.pid)]);
  await send(countedRequests);
  await run('callgrind_control', ['-d', String(child.pid)]);
  const dump = child.nextDump();
  for (let tries = 0; !fs.existsSync(dump) && tries < 100; tries += 1) await sleep(100);
  const totals = /^(?:totals|summary): (\d+)/m.exec(fs.readFileSync(dump, 'utf8'));
  if (!totals) fail(`no instruction count in ${dump}`);
  return Number(totals[1]) / countedRequests;
}
const cookieLines = (file) => fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
const countedBare = underCallgrind('bare', 'target/release/bare-baseline', {
  BARE_ADDR: `127.0.0.1:${port.countedBare}`,
  BARE_COPY_FILE: guestCopy,
});
const countedApp = underCallgrind('app', 'target/release/server', appEnv(port.countedApp, `sqlite://${scratch}/counted-sessions.db`));
const countedBareUrl = `http://127.0.0.1:${port.countedBare}`;
const countedAppUrl = appUrl(port.countedApp);
await waitFor(`${countedBareUrl}/`);
await waitFor(`${countedAppUrl}/readyz`);
const countedCookies = path.join(scratch, 'counted-cookies.txt');
await logIn(countedAppUrl, 20, 2, countedCookies);
const countedBareCookies = path.join(scratch, 'counted-bare-cookies.txt');
await bareSessions(20, countedBareCookies, countedBareUrl);
const signedIn = { cookies: cookieLines(countedCookies) };
const instructions = [
  ['bare axum page: the baseline', await instructionsPerRequest(countedBare, `${countedBareUrl}/`)],
  ['bare axum + the session layer, one record read', await instructionsPerRequest(countedBare, `${countedBareUrl}/session`, {
    cookies: cookieLines(countedBareCookies),
  })],
  ['guest GET /', await instructionsPerRequest(countedApp, `${countedAppUrl}/`)],
  [SIGNED_IN_ROW, await instructionsPerRequest(countedApp, `${countedAppUrl}/`, signedIn)],
  // A query string is never served from the page cache: what rendering a page costs.
  ['logged-in GET /?rendered, not from the page cache', await instructionsPerRequest(countedApp, `${countedAppUrl}/?rendered`, signedIn)],
  ['/api/current_user (SQLite store)', await instructionsPerRequest(countedApp, `${countedAppUrl}/api/current_user`, {
    ...signedIn, origin: countedAppUrl,
  })],
];
for (const child of [countedBare, countedApp]) {
  child.stopping = true;
  child.kill('SIGTERM');
}

// --- Memory: a second app on the memory store, idle and after many sessions -----------------
// Read three times: idle; after a warm-up of logins, which sets up what the login path keeps
// once for all (buffers, pools, the allocator's per-thread heaps); after many more sessions.
// Memory per session is the growth from the second reading to the third.
const warmUpLogins = 200;
const memoryApp = start('app (memory store)', 'target/release/server', [], appEnv(port.memoryApp, 'memory'));
await waitFor(`${appUrl(port.memoryApp)}/readyz`);
await sleep(1000);
const idleKiB = rssKiB(memoryApp.pid);
await logIn(appUrl(port.memoryApp), warmUpLogins, 8);
await sleep(1000);
const warmKiB = rssKiB(memoryApp.pid);
const manyLogins = await logIn(appUrl(port.memoryApp), sessionCount, 8);
await sleep(1000);
const loadedKiB = rssKiB(memoryApp.pid);
stopAll();

// --- The table ------------------------------------------------------------------------------
const budgets = { 'guest GET /': 0.7, [SIGNED_IN_ROW]: 0.4, '/api/current_user (SQLite store)': 0.6 };
const ms = (us) => (us / 1000).toFixed(2);
const verdict = (ok) => (ok ? 'met' : 'NOT MET');
const lines = [];
lines.push(`Machine: ${os.cpus().length} × ${os.cpus()[0].model}; wrk -t1 -c${connections} -d${seconds}s, ${rounds} rounds, loopback; ${new Date().toISOString()}`);
lines.push('');
lines.push('Medians of the rounds; each ratio is to the mean of the baseline runs just before and after that run (its range over the rounds in brackets).');
lines.push('');
lines.push('| measure | requests/s | p50 ms | p99 ms | × baseline | budget |');
lines.push('|---|---:|---:|---:|---:|---|');
for (const [name, r] of rows) {
  const budget = budgets[name] ? `≥ ${budgets[name]} ${verdict(r.ratio >= budgets[name])}` : '';
  const range = `${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}`;
  lines.push(`| ${name} | ${r.rps.toFixed(0)} | ${ms(r.p50_us)} | ${ms(r.p99_us)} | ${r.ratio.toFixed(2)} (${range}) | ${budget} |`);
}
lines.push('');
lines.push(`Instructions per request (callgrind; the server's user space; ${countedRequests} requests each, one at a time), and as a multiple of the baseline's:`);
lines.push('');
// Issue 23's budgets, in multiples of the bare page's instructions.
const instructionBudgets = { 'guest GET /': 1.3, [SIGNED_IN_ROW]: 3.0, '/api/current_user (SQLite store)': 2.0 };
lines.push('| measure | instructions | × baseline | budget |');
lines.push('|---|---:|---:|---|');
for (const [name, count] of instructions) {
  const times = count / instructions[0][1];
  const budget = instructionBudgets[name] ? `≤ ${instructionBudgets[name]} × ${verdict(times <= instructionBudgets[name])}` : '';
  lines.push(`| ${name} | ${Math.round(count)} | ${times.toFixed(2)} | ${budget} |`);
}
const perSession = ((loadedKiB - warmKiB) * 1024) / manyLogins.logins;
const perSessionFromIdle = ((loadedKiB - idleKiB) * 1024) / (manyLogins.logins + warmUpLogins);
const wasm = size('authgear-leptos.wasm');
const js = size('authgear-leptos.js');
const bundle = wasm.gzip + js.gzip;
lines.push('');
lines.push('| measure | value | budget |');
lines.push('|---|---:|---|');
lines.push(`| logged-in GET /: this app's requests/s ÷ the Flask app's, same round | ${median(timesFlask).toFixed(1)}× (${Math.min(...timesFlask).toFixed(1)}–${Math.max(...timesFlask).toFixed(1)}) | ≥ 10× ${verdict(median(timesFlask) >= 10)} |`);
lines.push(`| requests the provider received during this app's page and API runs | ${providerCalls} | 0 ${verdict(providerCalls === 0)} |`);
lines.push(`| logins/s (SQLite store, ${logins.logins} logins, 8 at a time, via the local provider) | ${logins.per_second.toFixed(1)} | |`);
lines.push(`| app CPU per login | ${(cpuPerLogin * 1000).toFixed(2)} ms | |`);
lines.push(`| logins/s (memory store, ${manyLogins.logins} logins) | ${manyLogins.per_second.toFixed(1)} | |`);
lines.push(`| app RSS idle (memory store) | ${(idleKiB / 1024).toFixed(1)} MiB | |`);
lines.push(`| app RSS after ${warmUpLogins} signed-in sessions (warm-up) | ${(warmKiB / 1024).toFixed(1)} MiB | |`);
lines.push(`| app RSS after ${manyLogins.logins} more | ${(loadedKiB / 1024).toFixed(1)} MiB | |`);
lines.push(`| memory per idle session (growth over the ${manyLogins.logins}) | ${(perSession / 1024).toFixed(2)} KiB | ≤ 2 KiB ${verdict(perSession <= 2048)} |`);
lines.push(`| memory per session counted from idle (with the warm-up) | ${(perSessionFromIdle / 1024).toFixed(2)} KiB | |`);
lines.push(`| .wasm raw / gzip | ${wasm.raw} B / ${wasm.gzip} B | |`);
lines.push(`| .js raw / gzip | ${js.raw} B / ${js.gzip} B | |`);
lines.push(`| .wasm + .js gzip | ${(bundle / 1000).toFixed(1)} KB | ≤ 150 KB ${verdict(bundle <= 150_000)} |`);
// What a first visit downloads of the bundle: the content-hashed files precompressed with brotli
// (scripts/hash-bundle.mjs), which the server sends to a browser that accepts br.
const hashFile = path.join(root, 'target/site/pkg/content-hash');
if (fs.existsSync(hashFile)) {
  const hash = fs.readFileSync(hashFile, 'utf8').trim();
  const sent = ['js', 'wasm', 'css']
    .map((ext) => fs.statSync(path.join(root, 'target/site/pkg', `authgear-leptos.${hash}.${ext}.br`)).size)
    .reduce((a, b) => a + b, 0);
  lines.push(`| bundle sent on a first visit (.js + .wasm + .css, brotli) | ${(sent / 1024).toFixed(1)} KiB | |`);
}
console.log(lines.join('\n'));
// BENCH_KEEP_SCRATCH=1 keeps the callgrind dumps (callgrind-app.out.1 guest, .2 signed-in,
// .3 signed-in rendered, .4 /api/current_user) for callgrind_annotate.
if (process.env.BENCH_KEEP_SCRATCH) console.error(`kept ${scratch}`);
else fs.rmSync(scratch, { recursive: true, force: true });
