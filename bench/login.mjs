// Signs users in without a browser, the way a browser would: the app's /login, the local
// provider's pages (email, then the one-time code; later logins reuse the provider's session),
// and the app's /callback. Each worker keeps its own provider cookies, so the first login of a
// worker answers the provider's pages and the following ones go straight through, as repeat
// logins do.
//
//   node bench/login.mjs <app-url> <count> <concurrency> <otp-code> [cookie-file]
//
// Prints {"logins": n, "seconds": s, "per_second": r} and writes each signed-in session's
// cookie (name=value), one per line, to cookie-file.

import fs from 'node:fs';

const [appUrl, countText, concurrencyText, otpCode, cookieFile] = process.argv.slice(2);
const count = Number(countText);
const concurrency = Number(concurrencyText);

/** A cookie jar that keeps name=value pairs (enough for these two hosts). */
class Jar {
  constructor() { this.cookies = new Map(); }
  take(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      if (/;\s*Max-Age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(at + 1).trim());
    }
  }
  header() { return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '); }
}

async function request(url, jar, init = {}) {
  const response = await fetch(url, {
    ...init,
    redirect: 'manual',
    headers: { ...(init.headers || {}), cookie: jar.header() },
  });
  jar.take(response);
  return response;
}

function form(fields) {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  };
}

async function logIn(providerJar, email) {
  const appJar = new Jar();
  let response = await request(`${appUrl}/login`, appJar);
  let location = response.headers.get('location');
  // At the provider: follow redirects, answering the email and code pages when asked.
  for (let step = 0; !location.startsWith(`${appUrl}/callback`); step += 1) {
    if (step > 10) throw new Error(`login did not come back to the app (at ${location})`);
    response = await request(location, providerJar);
    if (response.status === 200) {
      const base = new URL(location);
      const uid = /\/interaction\/([\w-]+)/.exec(base.pathname)[1];
      await (await request(`${base.origin}/interaction/${uid}/email`, providerJar, form({ email }))).text();
      response = await request(`${base.origin}/interaction/${uid}/code`, providerJar, form({ code: otpCode }));
    }
    const next = response.headers.get('location');
    if (!next) throw new Error(`provider answered ${response.status} at ${location}`);
    location = new URL(next, location).toString();
  }
  response = await request(location, appJar);
  // The Rust app answers 303, Flask (the guide's app, for the comparison) 302.
  if (![302, 303].includes(response.status) || response.headers.get('location') !== '/') {
    throw new Error(`callback answered ${response.status}: ${await response.text()}`);
  }
  // The session's cookie (the login attempt's own was removed by the callback).
  const name = [...appJar.cookies.keys()].find((cookie) => !cookie.startsWith('login-'));
  return `${name}=${appJar.cookies.get(name)}`;
}

const cookies = [];
let started = 0;
async function worker(index) {
  const providerJar = new Jar();
  while (started < count) {
    started += 1;
    cookies.push(await logIn(providerJar, `bench-${index}@example.com`));
  }
}

const begin = performance.now();
await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
const seconds = (performance.now() - begin) / 1000;
if (cookieFile) fs.writeFileSync(cookieFile, `${cookies.join('\n')}\n`);
console.log(JSON.stringify({ logins: cookies.length, seconds, per_second: cookies.length / seconds }));
