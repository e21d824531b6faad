// Lighthouse (npm, mobile preset: simulated slow 4G and a 4× slower CPU) on the release app's
// guest page and signed-in page, in Debian's Chromium: the four category scores, LCP, and the
// total byte weight of a first visit. Run it through bench/lighthouse/run, which builds the
// release app first. RUNS (3) runs per page; medians.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  OTP, nameScript, root, startLocalProvider, startReleaseApp, stopAll,
} from '../processes.mjs';

const runs = Number(process.env.RUNS || 3);
const port = { provider: 4500, app: 3500 };
const appUrl = `http://localhost:${port.app}`;
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'authgear-leptos-lighthouse-'));
const run = promisify(execFile);
const progress = (message) => console.error(`  ${message}`);
nameScript('lighthouse');

const issuer = await startLocalProvider(port.provider, [appUrl]);
await startReleaseApp('app', {
  port: port.app,
  issuer,
  store: `sqlite://${path.join(scratch, 'sessions.db')}`,
  env: { LOCAL_DEMO_PROVIDER: 'true' },
});
const cookieFile = path.join(scratch, 'cookies.txt');
await run('node', ['bench/login.mjs', appUrl, '1', '1', OTP, cookieFile], { cwd: root });
const cookie = fs.readFileSync(cookieFile, 'utf8').trim();

/** One Lighthouse run of `url` (with `headers`): its JSON report. */
async function lighthouse(url, headers, index) {
  const output = path.join(scratch, `report-${index}.json`);
  await run(path.join(root, 'bench/lighthouse/node_modules/.bin/lighthouse'), [
    url,
    '--quiet',
    '--output=json',
    `--output-path=${output}`,
    '--only-categories=performance,accessibility,best-practices,seo',
    '--chrome-flags=--headless=new --no-sandbox --disable-gpu',
    `--extra-headers=${JSON.stringify(headers)}`,
  ], { cwd: root, env: { ...process.env, CHROME_PATH: process.env.CHROMIUM_PATH || '/usr/bin/chromium' }, maxBuffer: 64 << 20 });
  return JSON.parse(fs.readFileSync(output, 'utf8'));
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const rows = [];
let index = 0;
for (const [name, headers] of [['guest GET /', {}], ['signed-in GET /', { cookie }]]) {
  const reports = [];
  for (let i = 0; i < runs; i += 1) {
    progress(`${name}: run ${i + 1} of ${runs}`);
    index += 1;
    reports.push(await lighthouse(`${appUrl}/`, headers, index));
  }
  const score = (category) => median(reports.map((r) => r.categories[category].score));
  const audit = (id) => median(reports.map((r) => r.audits[id].numericValue));
  rows.push({
    name,
    performance: score('performance'),
    accessibility: score('accessibility'),
    bestPractices: score('best-practices'),
    seo: score('seo'),
    lcp: audit('largest-contentful-paint'),
    bytes: audit('total-byte-weight'),
    failing: [...new Set(reports.flatMap((r) => Object.values(r.audits)
      .filter((a) => a.score !== null && a.score < 1 && a.scoreDisplayMode !== 'informative' && a.scoreDisplayMode !== 'manual' && a.scoreDisplayMode !== 'notApplicable')
      .map((a) => a.id)))],
  });
}

console.log(`\nLighthouse ${JSON.parse(fs.readFileSync(path.join(root, 'bench/lighthouse/node_modules/lighthouse/package.json'), 'utf8')).version}, mobile preset, Debian's Chromium, release build; medians of ${runs} runs; ${new Date().toISOString()}\n`);
console.log('| page | performance | accessibility | best practices | SEO | LCP | total byte weight |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.performance} | ${r.accessibility} | ${r.bestPractices} | ${r.seo} | ${(r.lcp / 1000).toFixed(2)} s | ${(r.bytes / 1024).toFixed(1)} KiB |`);
}
for (const r of rows) {
  if (r.failing.length) console.log(`\n${r.name}: audits below 1 in some run: ${r.failing.join(', ')}`);
}
stopAll();
// BENCH_KEEP_SCRATCH=1 keeps the JSON reports (report-<n>.json), e.g. for the LCP's phases.
if (process.env.BENCH_KEEP_SCRATCH) console.error(`kept ${scratch}`);
else fs.rmSync(scratch, { recursive: true, force: true });
