// OpenID Connect Back-Channel Logout: the provider tells the app a user signed out there.
import {
  test, expect, TEST, logIn, expectHydrated, logoutToken, subjectOf,
} from './support.js';
import { scratchDir, startApp } from './processes.js';

function postLogout(request, token) {
  return request.post(`${TEST.appUrl}/backchannel-logout`, { form: { logout_token: token } });
}

test('signing out at the provider ends the app session', async ({ page }) => {
  await logIn(page, 'bcl@example.com');
  // The user signs out on the provider's own pages (no id_token_hint, no way back).
  await page.goto(`${TEST.issuer}/oauth2/end_session`);
  await expect(page.getByRole('heading', { name: 'You are signed out' })).toBeVisible();
  await page.goto('/');
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
});

test('an open page notices a back-channel logout without a reload', async ({ page, request }) => {
  await logIn(page, 'bcl-open@example.com');
  await expectHydrated(page);
  const response = await postLogout(request, await logoutToken(request, await subjectOf(page)));
  expect(response.status()).toBe(200);
  await page.evaluate(() => window.dispatchEvent(new Event('focus')));
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  await expect(page.locator('#sessionEnded')).toBeVisible();
});

test('hostile logout tokens are refused with 400 and delete nothing; a replay too', async ({ page, request }) => {
  await logIn(page, 'bcl-hostile@example.com');
  const sub = await subjectOf(page);

  const valid = await logoutToken(request, sub);
  const [header, payload, signature] = valid.split('.');
  const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
  const hostile = {
    'bad signature': `${header}.${payload}.${flipped}`,
    'alg none': unsigned,
    'wrong aud': await logoutToken(request, sub, { claims: { aud: 'someone-else' } }),
    'wrong iss': await logoutToken(request, sub, { claims: { iss: 'https://evil.example' } }),
    'missing events': await logoutToken(request, sub, { remove: ['events'] }),
    'other event': await logoutToken(request, sub, { claims: { events: { 'urn:other': {} } } }),
    'with a nonce': await logoutToken(request, sub, { claims: { nonce: 'n-0S6_WzA2Mj' } }),
    'no sub or sid': await logoutToken(request, sub, { remove: ['sub'] }),
    'no jti': await logoutToken(request, sub, { remove: ['jti'] }),
    'unknown kid': await logoutToken(request, sub, { header: { kid: 'not-in-jwks' } }),
    'not a JWT': 'hello',
  };
  for (const [name, token] of Object.entries(hostile)) {
    const response = await postLogout(request, token);
    // An unknown key is refused once the keys were fetched again, or (if they were fetched
    // lately, for another test) the provider is told to retry: never accepted.
    if (name === 'unknown kid') expect([400, 503], name).toContain(response.status());
    else expect(response.status(), name).toBe(400);
  }
  await page.reload();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome bcl-hostile@example.com!');

  expect((await postLogout(request, valid)).status()).toBe(200);
  await page.reload();
  await expect(page.locator('#profileDropDown')).toHaveText('Welcome Guest');
  expect((await postLogout(request, valid)).status(), 'replay').toBe(400);
});

test('a logout token signed with an unknown key fetches the provider\'s keys again, at most once in a while', async ({ page, request }) => {
  // An app of its own, so that no other test's unknown key counts against its allowance.
  const app = await startApp({ port: TEST.extraAppPorts[0], sessionStore: `sqlite://${scratchDir('kid')}/sessions.db` });
  try {
    await logIn(page, 'bcl-kid@example.com', app.url);
    const token = await logoutToken(request, await subjectOf(page), { header: { kid: 'rotated-in-later' } });
    const requests = async () => (await (await request.get(`${TEST.issuer}/__test/stats`)).json()).requests;
    const post = () => request.post(`${app.url}/backchannel-logout`, { form: { logout_token: token } });
    const before = await requests();
    expect((await post()).status()).toBe(400);
    // Discovery and the key set, fetched again once.
    expect(await requests()).toBe(before + 2);
    // Anyone may post such tokens: once the allowance is used up, the answer is "retry", so
    // that a genuine token signed with a key rotated in meanwhile is not refused for good.
    for (let i = 0; i < 5; i += 1) {
      const response = await post();
      expect(response.status()).toBe(503);
      expect(response.headers()['retry-after']).toBe('30');
    }
    expect(await requests(), 'no more fetches for a while').toBe(before + 2);
    expect(app.log()).toContain('signed with a key that is not in the provider');
  } finally {
    await app.stop();
  }
});
