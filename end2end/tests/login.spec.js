// Log in with the local Authgear-like provider, end to end, in real Chromium.
import {
  test, expect, TEST, logIn, answerProvider, enterEmailAndCode, lastIssuedTokens, expectHydrated,
} from './support.js';

test.describe('guest', () => {
  test('the home page welcomes a guest and hydrates without errors', async ({ page }) => {
    const errors = [];
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));

    const response = await page.goto('/');
    expect(response.status()).toBe(200);
    // Server-rendered: the right state is in the HTML itself, before any WASM runs.
    const html = await response.text();
    expect(html).toContain('<h1 id="profileDropDown">Welcome Guest</h1>');
    expect(html).toContain('id="qsLoginBtn"');

    await expect(page.locator('h1#profileDropDown')).toHaveText('Welcome Guest');
    await expect(page.locator('a#qsLoginBtn')).toHaveText('Login');
    await expect(page.locator('#demoNotice')).toContainText('local demo provider');
    await expectHydrated(page);
    expect(errors).toEqual([]);
    // A guest gets no cookie at all.
    expect(await page.context().cookies(TEST.appUrl)).toEqual([]);
  });
});

test.describe('login', () => {
  test('log in, see the claims, reload, log out through the provider', async ({ page }) => {
    await logIn(page);
    await expectHydrated(page);
    await expect(page.locator('#qsLogoutBtn')).toHaveText('Logout');
    const claims = JSON.parse(await page.locator('#claims').textContent());
    expect(claims.email).toBe('ada@example.com');
    expect(claims.email_verified).toBe(true);
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims['https://authgear.com/claims/user/is_anonymous']).toBe(false);

    // Reload: still signed in, rendered by the server.
    const reloaded = await page.reload();
    expect(await reloaded.text()).toContain('Welcome ada@example.com!');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome ada@example.com!');

    // Logout posts the hint to the provider's end-session endpoint (a form, not a URL) and
    // comes back. No URL the browser asks for, and no Location header, carries the ID token.
    const idToken = (await lastIssuedTokens(page.request)).id_token;
    const seen = [];
    page.on('request', (r) => seen.push(`${r.method()} ${r.url()}`));
    page.on('response', (r) => seen.push(`Location: ${r.headers().location ?? ''}`));
    const endSession = page.waitForRequest((r) => r.url().startsWith(`${TEST.issuer}/oauth2/end_session`));
    await page.locator('#qsLogoutBtn').click();
    const request = await endSession;
    expect(request.method()).toBe('POST');
    const form = new URLSearchParams(request.postData());
    expect(form.get('id_token_hint')).toBe(idToken);
    expect(form.get('post_logout_redirect_uri')).toBe(`${TEST.appUrl}/`);
    const state = form.get('state');
    expect(state).toBeTruthy();
    await expect(page).toHaveURL(`${TEST.appUrl}/?state=${state}`);
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.filter((line) => line.includes(idToken))).toEqual([]);

    // The session is gone on the server too, and so is the provider's: Login asks again.
    await page.reload();
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
    await page.locator('#qsLoginBtn').click();
    await expect(page.locator('#email')).toBeVisible();
  });

  test('one HttpOnly cookie, and no token string reaches the browser', async ({ page, request }) => {
    await logIn(page, 'grace@example.com');
    const tokens = await lastIssuedTokens(request);
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.id_token).toBeTruthy();
    const secrets = [tokens.access_token, tokens.refresh_token, tokens.id_token];

    const cookies = await page.context().cookies(TEST.appUrl);
    expect(cookies).toHaveLength(1);
    const [cookie] = cookies;
    expect(cookie).toMatchObject({ name: 'session', httpOnly: true, sameSite: 'Lax', path: '/', secure: false });
    expect(cookie.domain).toBe('localhost'); // host-only: no Domain attribute

    const html = await page.content();
    const documentCookie = await page.evaluate(() => document.cookie);
    expect(documentCookie).toBe('');
    const api = await page.evaluate(async () => {
      const response = await fetch('/api/current_user', { method: 'POST' });
      return { status: response.status, body: await response.text() };
    });
    expect(api.status).toBe(200);
    expect(JSON.parse(api.body).user.email).toBe('grace@example.com');

    for (const secret of secrets) {
      for (const [where, text] of [['html', html], ['api', api.body], ['cookie', cookie.value]]) {
        expect(text.includes(secret), `${where} contains a token`).toBe(false);
      }
    }
  });

  test('two tabs can log in at once', async ({ context }) => {
    const first = await context.newPage();
    const second = await context.newPage();
    for (const tab of [first, second]) {
      await tab.goto('/');
      await tab.locator('#qsLoginBtn').click();
      await expect(tab.locator('#email')).toBeVisible();
    }
    // Finish the second attempt first: the first one's transaction must survive it.
    for (const tab of [second, first]) {
      await answerProvider(tab, 'tabs@example.com');
    }
  });

  test('a login attempt waits in a cookie of its own, not in a session, until its callback', async ({ page, request }) => {
    // A client without cookies: the answer sets the attempt's cookie and no session cookie
    // (nothing was written to the session store).
    const login = await request.get(`${TEST.appUrl}/login`, { maxRedirects: 0 });
    expect(login.status()).toBe(303);
    const setCookies = login.headersArray().filter((h) => h.name.toLowerCase() === 'set-cookie');
    expect(setCookies).toHaveLength(1);
    const attempt = setCookies[0].value;
    expect(attempt).toMatch(/^login-[A-Za-z0-9_-]+=/);
    for (const attribute of ['HttpOnly', 'SameSite=Lax', 'Path=/callback', 'Max-Age=600']) {
      expect(attempt).toContain(attribute);
    }
    const state = new URL(login.headers().location).searchParams.get('state');
    expect(attempt.startsWith(`login-${state}=`)).toBe(true);

    // A browser's login: its attempt's cookie is gone once the callback has used it.
    await logIn(page, 'attempt@example.com');
    const left = await page.context().cookies(`${TEST.appUrl}/callback`);
    expect(left.map((c) => c.name)).toEqual(['session']);
  });

  test('login returns to a local return_to page', async ({ page }) => {
    await page.goto('/login?return_to=%2F%3Ffrom%3Dtest');
    await enterEmailAndCode(page, 'ret@example.com');
    await expect(page).toHaveURL(`${TEST.appUrl}/?from=test`);
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome ret@example.com!');
  });
});

test.describe('refusals', () => {
  test('a denied login shows the error page and creates no session', async ({ page }) => {
    await page.goto('/');
    await page.locator('#qsLoginBtn').click();
    const callback = page.waitForResponse((r) => r.url().startsWith(`${TEST.appUrl}/callback`));
    await page.locator('#cancel').click();
    const response = await callback;
    expect(response.status()).toBe(403);
    await expect(page.locator('#errorTitle')).toHaveText('Sign-in cancelled');
    await expect(page.locator('#tryAgain')).toHaveAttribute('href', '/login');
    await page.locator('#backHome').click();
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  });

  test('a replayed callback is refused and the login stays', async ({ page }) => {
    let callbackUrl;
    page.on('request', (r) => {
      if (r.url().startsWith(`${TEST.appUrl}/callback`)) callbackUrl = r.url();
    });
    await logIn(page, 'replay@example.com');
    expect(callbackUrl).toContain('state=');
    const replay = await page.goto(callbackUrl);
    expect(replay.status()).toBe(400);
    await expect(page.locator('#errorTitle')).toHaveText('Sign-in link expired');
    await page.goto('/');
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome replay@example.com!');
  });

  test('logout cannot be triggered cross-site', async ({ page, request }) => {
    await logIn(page, 'csrf@example.com');
    const [cookie] = await page.context().cookies(TEST.appUrl);
    const headers = { cookie: `${cookie.name}=${cookie.value}` };

    const crossSite = await request.post('/logout', {
      headers: { ...headers, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      maxRedirects: 0,
    });
    expect(crossSite.status()).toBe(403);
    const noOrigin = await request.post('/logout', { headers, maxRedirects: 0 });
    expect(noOrigin.status()).toBe(403);
    // A link or an image is a GET: not a logout.
    const link = await request.get('/logout', { headers, maxRedirects: 0 });
    expect(link.status()).toBe(405);
    const serverFunction = await request.post('/api/current_user', {
      headers: { ...headers, origin: 'http://evil.example' },
    });
    expect(serverFunction.status()).toBe(403);

    await page.reload();
    await expect(page.locator('#profileDropDown')).toHaveText('Welcome csrf@example.com!');
  });

  test('an off-site return_to is refused', async ({ page }) => {
    const response = await page.goto('/login?return_to=//evil.example/steal');
    expect(response.status()).toBe(400);
    await expect(page.locator('#errorTitle')).toHaveText('Invalid return address');
  });
});
