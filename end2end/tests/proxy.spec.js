// Production behind a proxy, as deploy/ describes it: Debian's nginx terminating TLS (a
// self-signed certificate) in front of two instances of the server sharing Redis, with
// deploy/nginx.conf itself as nginx's site (its names, ports and paths replaced). Clients come
// from distinct loopback addresses (127.0.0.x as the source address), as from distinct hosts.
import fs from 'node:fs';
import https from 'node:https';
import { execFileSync, spawn } from 'node:child_process';
import {
  test, expect, enterEmailAndCode,
} from './support.js';
import {
  freePorts, redisServer, scratchDir, startApp, startProvider,
} from './processes.js';

/** A request through nginx from `localAddress`; resolves to its status, headers and body. */
function viaProxy(url, { localAddress = '127.0.0.1', method = 'GET', headers = {}, ca } = {}) {
  return new Promise((resolve, reject) => {
    const request = https.request(url, {
      method, headers, ca, localAddress, agent: false,
    }, (response) => {
      let body = '';
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

/** nginx with deploy/nginx.conf as its site; `stop()` ends it. */
async function startNginx(dir, { httpsPort, httpPort, instances }) {
  let site = fs.readFileSync('../deploy/nginx.conf', 'utf8');
  const replacements = [
    ['server 127.0.0.1:3001', `server 127.0.0.1:${instances[0]}`],
    ['server 127.0.0.1:3002', `server 127.0.0.1:${instances[1]}`],
    ['listen 80;', `listen 127.0.0.1:${httpPort};`],
    ['listen 443 ssl http2;', `listen 127.0.0.1:${httpsPort} ssl http2;`],
    ['/etc/letsencrypt/live/app.example.com/fullchain.pem', `${dir}/cert.pem`],
    ['/etc/letsencrypt/live/app.example.com/privkey.pem', `${dir}/key.pem`],
    ['app.example.com', 'localhost'],
  ];
  for (const [from, to] of replacements) {
    expect(site, 'deploy/nginx.conf changed: update this test').toContain(from);
    site = site.replaceAll(from, to);
  }
  fs.writeFileSync(`${dir}/site.conf`, site);
  const temp = ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((name) => `${name === 'body' ? 'client_body' : name}_temp_path ${dir}/${name};`).join(' ');
  fs.writeFileSync(`${dir}/nginx.conf`, `
    ${process.getuid() === 0 ? 'user root;' : ''}
    daemon off; worker_processes 1; pid ${dir}/nginx.pid; error_log stderr warn;
    events { worker_connections 1024; }
    http { access_log off; ${temp} include ${dir}/site.conf; }
  `);
  const binary = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';
  const nginx = spawn(binary, ['-p', dir, '-e', 'stderr', '-c', `${dir}/nginx.conf`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  nginx.stderr.on('data', (chunk) => { log += chunk; });
  return {
    log: () => log,
    async stop() {
      if (nginx.exitCode !== null) return;
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGQUIT');
      await exited;
    },
  };
}

test('behind nginx with two instances on Redis: every client its own login limit, __Host- cookies, "ended" through the proxy', async ({ browser }) => {
  test.setTimeout(120_000);
  const [providerPort, httpsPort, httpPort, redisPort, ...instances] = await freePorts(6);
  const dir = scratchDir('proxy');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`,
  ], { stdio: 'ignore' });
  const ca = fs.readFileSync(`${dir}/cert.pem`);
  const appUrl = `https://localhost:${httpsPort}`;
  const issuer = `http://127.0.0.1:${providerPort}`;
  const provider = await startProvider(providerPort, { APP_URL: appUrl, EXTRA_APP_URLS: '', WEBHOOK_URL: '' });
  const redis = redisServer(redisPort, dir);
  await redis.start();
  const env = {
    APP_URL: appUrl,
    AUTHGEAR_DOMAIN: issuer,
    AUTHGEAR_WEBHOOK_SECRET: '',
    TRUSTED_PROXIES: '127.0.0.1',
    LOGIN_RATE_LIMIT: '5/1m',
  };
  const apps = [];
  let nginx;
  try {
    for (const port of instances) apps.push(await startApp({ port, sessionStore: redis.url, env }));
    nginx = await startNginx(dir, { httpsPort, httpPort, instances });
    await expect.poll(async () => (await viaProxy(`${appUrl}/healthz`, { ca }).catch(() => ({}))).status, { timeout: 10_000 }).toBe(200);

    // 100 clients, each starting one login: none refused (the limit is per client, not per
    // proxy). Each login attempt's cookie is a __Host- cookie.
    const logins = await Promise.all(Array.from({ length: 100 }, (_, i) => viaProxy(`${appUrl}/login`, { ca, localAddress: `127.0.0.${i + 2}` })));
    expect(logins.map((r) => r.status).filter((status) => status !== 303), 'refused or failed').toEqual([]);
    const attempt = logins[0].headers['set-cookie'][0];
    expect(attempt).toMatch(/^__Host-login-[A-Za-z0-9_-]+=/);
    expect(attempt.split('; ')).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'Path=/']));
    expect(attempt).not.toContain('Domain');

    // One client is still limited: 5 a minute on each instance, so at most 10 of 11 pass.
    const one = [];
    for (let i = 0; i < 11; i += 1) one.push((await viaProxy(`${appUrl}/login`, { ca, localAddress: '127.0.0.150' })).status);
    expect(one.filter((status) => status === 429).length, one.join(' ')).toBeGreaterThanOrEqual(1);
    // A forged X-Forwarded-For (nginx appends the address it saw) does not make it many.
    const forged = [];
    for (let i = 0; i < 11; i += 1) {
      const headers = { 'x-forwarded-for': `198.51.100.${i + 1}` };
      forged.push((await viaProxy(`${appUrl}/login`, { ca, localAddress: '127.0.0.151', headers })).status);
    }
    expect(forged.filter((status) => status === 429).length, forged.join(' ')).toBeGreaterThanOrEqual(1);

    // A person's login through the proxy: signed in, with a Secure, HTTP-only __Host- cookie.
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${appUrl}/`);
    await page.locator('#qsLoginBtn').click();
    await expect(page).toHaveURL(new RegExp(`^${issuer}/interaction/`));
    await enterEmailAndCode(page, 'proxy@example.com');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome proxy@example.com!');
    const cookies = await context.cookies(appUrl);
    expect(cookies.map((c) => [c.name, c.secure, c.httpOnly])).toEqual([['__Host-session', true, true]]);
    const cookie = `__Host-session=${cookies[0].value}`;

    // The session's event stream through nginx says `ended` within 5 s of a logout (which
    // either instance may serve).
    let received = '';
    let endedAt = 0;
    let stream;
    // The app listens for the session's end before it answers: once the headers are here, a
    // logout cannot be missed.
    const status = await new Promise((resolve, reject) => {
      stream = https.get(`${appUrl}/session/events`, { ca, headers: { cookie } }, (response) => {
        response.on('data', (chunk) => {
          received += chunk;
          if (!endedAt && received.includes('event: ended')) endedAt = Date.now();
        });
        resolve(response.statusCode);
      });
      stream.on('error', reject);
    });
    expect(status).toBe(200);
    const loggedOutAt = Date.now();
    const logout = await viaProxy(`${appUrl}/logout`, { ca, method: 'POST', headers: { cookie, origin: appUrl } });
    expect([200, 303]).toContain(logout.status);
    await expect.poll(() => endedAt, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(endedAt - loggedOutAt).toBeLessThan(5_000);
    stream.destroy();
    await page.reload();
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    await context.close();
  } catch (error) {
    for (const [name, log] of [['nginx', nginx?.log()], ...apps.map((app, i) => [`app ${i}`, app.log()])]) {
      console.log(`--- ${name} ---\n${(log || '').split('\n').slice(-30).join('\n')}`);
    }
    throw error;
  } finally {
    await nginx?.stop();
    for (const app of apps) await app.stop();
    await redis.stop();
    await provider.stop();
  }
});
