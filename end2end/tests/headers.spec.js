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
  // Logout is a form whose answer redirects to the provider's end-session endpoint.
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
