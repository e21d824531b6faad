// Browser hardening: the page runs under a Content-Security-Policy with a per-response nonce,
// and every response carries the other security headers.
import {
  test, expect, TEST, logIn, expectHydrated,
} from './support.js';

function directives(policy) {
  return Object.fromEntries(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
}

test('the signed-in page hydrates and works under its CSP; the nonce is new on every response', async ({ page }) => {
  const violations = [];
  page.on('console', (message) => message.type() === 'error' && violations.push(message.text()));
  page.on('pageerror', (error) => violations.push(error.message));
  await logIn(page, 'csp@example.com');

  const response = await page.reload();
  const headers = response.headers();
  const csp = directives(headers['content-security-policy']);
  const nonce = csp['script-src'].find((v) => v.startsWith("'nonce-")).slice(7, -1);
  expect(nonce.length).toBeGreaterThanOrEqual(16);
  expect(csp['script-src']).toEqual(["'self'", `'nonce-${nonce}'`, "'wasm-unsafe-eval'"]);
  expect(csp['frame-ancestors']).toEqual(["'none'"]);
  expect(csp['object-src']).toEqual(["'none'"]);
  // Logout is a form whose answer posts a form to the provider's end-session endpoint.
  expect(csp['form-action']).toEqual(["'self'", TEST.issuer]);
  // Every inline script on the page carries this response's nonce. The page's state is a JSON
  // data block, which browsers never run (and CSP does not cover): the only other kind.
  const scripts = await page.locator('script').evaluateAll((all) => all.map((s) => ({ nonce: s.nonce, src: s.src, type: s.type, id: s.id })));
  const data = scripts.filter((s) => s.type === 'application/json');
  expect(data.map((s) => s.id)).toEqual(['authState']);
  const inline = scripts.filter((s) => !s.src && s.type !== 'application/json');
  expect(inline.length).toBeGreaterThan(0);
  for (const script of inline) expect(script.nonce).toBe(nonce);
  expect(headers['cache-control']).toBe('no-store');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['x-frame-options']).toBe('DENY');

  // Hydrated and interactive under the policy: a server-function call from the WASM works.
  await expectHydrated(page);
  await page.locator('#refreshProfile').click();
  await expect(page.locator('#claims')).toContainText('csp@example.com');
  await expect(page.locator('#profileError')).toHaveCount(0);
  expect(violations).toEqual([]);

  const again = directives((await page.reload()).headers()['content-security-policy']);
  expect(again['script-src']).not.toContain(`'nonce-${nonce}'`);
});

test('error pages and static files carry a no-script CSP and the other headers', async ({ request }) => {
  for (const path of ['/callback?state=nope&code=x', '/no-such-page', '/robots.txt']) {
    const response = await request.get(path);
    const headers = response.headers();
    expect(directives(headers['content-security-policy'])['default-src'], path).toEqual(["'none'"]);
    expect(headers['x-content-type-options'], path).toBe('nosniff');
    expect(headers['x-frame-options'], path).toBe('DENY');
  }
});

test('the guest page gets a new nonce on every response, on every inline script', async ({ page, request }) => {
  const sent = [];
  for (let i = 0; i < 2; i++) {
    const response = await request.get('/');
    const csp = directives(response.headers()['content-security-policy']);
    const nonce = csp['script-src'].find((v) => v.startsWith("'nonce-")).slice(7, -1);
    const body = await response.text();
    expect(body).toContain('Welcome Guest');
    const scripts = [...body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    // The page's state: a JSON data block, never run (see the test above).
    expect(scripts.filter((attrs) => attrs.includes('type="application/json"'))).toEqual([' type="application/json" id="authState"']);
    const inline = scripts.filter((attrs) => !attrs.includes('src=') && !attrs.includes('type="application/json"'));
    expect(inline.length).toBeGreaterThan(1);
    for (const attrs of inline) expect(attrs).toContain(`nonce="${nonce}"`);
    sent.push({ nonce, body });
  }
  expect(sent[0].nonce).not.toBe(sent[1].nonce);
  expect(sent[1].body).not.toContain(sent[0].nonce);
  // Apart from the nonce, the same page.
  expect(sent[0].body.replaceAll(sent[0].nonce, 'N')).toBe(sent[1].body.replaceAll(sent[1].nonce, 'N'));

  const violations = [];
  page.on('console', (message) => message.type() === 'error' && violations.push(message.text()));
  page.on('pageerror', (error) => violations.push(error.message));
  await page.goto('/');
  await expectHydrated(page);
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  expect(violations).toEqual([]);
});

test('signed-in pages come from the page cache per user: each user their own page, a new nonce every time', async ({ browser }) => {
  const users = ['cache-ada@example.com', 'cache-grace@example.com'];
  const pages = [];
  for (const email of users) {
    const context = await browser.newContext({ baseURL: TEST.appUrl });
    const page = await context.newPage();
    await logIn(page, email);
    pages.push(page);
  }
  // In turns, so that each user's second answer comes from the cache while the other's exists.
  const sent = users.map(() => []);
  for (let round = 0; round < 2; round++) {
    for (const [index, page] of pages.entries()) {
      const response = await page.request.get('/');
      expect(response.status()).toBe(200);
      const nonce = directives(response.headers()['content-security-policy'])['script-src']
        .find((v) => v.startsWith("'nonce-")).slice(7, -1);
      sent[index].push({ nonce, body: await response.text() });
    }
  }
  for (const [index, [first, second]] of sent.entries()) {
    const other = users[1 - index];
    expect(first.body).toContain(`Welcome ${users[index]}!`);
    expect(second.body).toContain(`Welcome ${users[index]}!`);
    expect(first.body + second.body).not.toContain(other);
    expect(second.nonce).not.toBe(first.nonce);
    expect(second.body).not.toContain(first.nonce);
    expect(first.body.replaceAll(first.nonce, 'N')).toBe(second.body.replaceAll(second.nonce, 'N'));
  }
  // A page from the cache hydrates under its own nonce.
  const page = pages[0];
  const violations = [];
  page.on('console', (message) => message.type() === 'error' && violations.push(message.text()));
  page.on('pageerror', (error) => violations.push(error.message));
  await page.reload();
  await expectHydrated(page);
  await expect(page.locator('#profileDropDown')).toHaveText(`Welcome ${users[0]}!`);
  expect(violations).toEqual([]);
  for (const page of pages) await page.context().close();
});

test('the release bundle: content-hashed names, immutable, precompressed; cached on a second visit', async ({ page, request }) => {
  const html = await (await request.get('/')).text();
  const linked = [...html.matchAll(/\/pkg\/authgear-leptos\.([0-9a-f]{16})\.(js|wasm|css)/g)];
  expect(new Set(linked.map((m) => m[2]))).toEqual(new Set(['js', 'wasm', 'css']));
  expect(new Set(linked.map((m) => m[1])).size, 'one hash for the three').toBe(1);
  // The JS module is preloaded; the WASM is not, so that it never takes the bandwidth the
  // stylesheet and the first paint need (docs/decisions/0008).
  expect(html).toMatch(/<link rel="modulepreload" href="\/pkg\/authgear-leptos\.[0-9a-f]{16}\.js"/);
  expect(html).not.toMatch(/rel="preload"[^>]*\.wasm/);
  for (const url of new Set(linked.map((m) => m[0]))) {
    const plain = await request.get(url, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers()['cache-control'], url).toBe('public, max-age=31536000, immutable');
    const size = (await plain.body()).length;
    for (const encoding of ['br', 'gzip']) {
      // Playwright decodes the body; the header says what travelled.
      const response = await request.get(url, { headers: { 'accept-encoding': encoding } });
      expect(response.headers()['content-encoding'], `${url} ${encoding}`).toBe(encoding);
      expect(Number(response.headers()['content-length']), `${url} ${encoding}`).toBeLessThan(size);
      expect((await response.body()).length).toBe(size);
    }
  }
  // Files without the hash keep being revalidated (error pages link the plain stylesheet).
  const plainCss = await request.get('/pkg/authgear-leptos.css');
  expect(plainCss.headers()['cache-control']).toBeUndefined();

  // A second visit takes the bundle from the browser's cache, without asking the server.
  await page.goto('/');
  await expectHydrated(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const fromMemory = new Set();
  const bundle = [];
  cdp.on('Network.requestServedFromCache', ({ requestId }) => fromMemory.add(requestId));
  cdp.on('Network.responseReceived', ({ requestId, response }) => {
    if (response.url.includes('/pkg/')) bundle.push({ requestId, url: response.url, disk: response.fromDiskCache });
  });
  await page.goto('/');
  await expectHydrated(page);
  expect(bundle.length).toBeGreaterThanOrEqual(3);
  expect(bundle.filter((r) => !r.disk && !fromMemory.has(r.requestId)).map((r) => r.url), 'fetched again').toEqual([]);
});
