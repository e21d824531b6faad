// Sessions end where Authgear ends them: its webhooks (sent by the local provider, signed as
// Authgear signs them), and every open tab of the browser follows within 5 seconds, without a
// reload.
import {
  test, expect, TEST, logIn, currentUser, expectHydrated, webhook, postWebhook, subjectOf,
  expectGuestWithReason, WITHIN,
} from './support.js';
import { sqliteCount } from './processes.js';

/** How many session records of `email` the worker's app keeps (its SQLite file). */
function recordsOf(email) {
  return sqliteCount(TEST.appDatabase, `select count(*) from tower_sessions where instr(data, '${email}') > 0`);
}

test('signing out on the provider\'s page: the open app tab shows the guest view within 5 s', async ({ page, context }) => {
  await logIn(page, 'wh-signout@example.com');
  await expectHydrated(page);
  expect(recordsOf('wh-signout@example.com')).toBe(1);
  const settings = await context.newPage();
  await settings.goto(`${TEST.issuer}/settings`);
  await settings.locator('#settingsSignOut').click();
  await expect(settings.locator('#settingsSignedOut')).toBeVisible();
  await expectGuestWithReason(page);
  expect(recordsOf('wh-signout@example.com'), 'the record is gone').toBe(0);
  expect(await currentUser(page)).toBeNull();
  const deliveries = await (await page.request.get(`${TEST.issuer}/__test/webhooks`)).json();
  const signedOut = deliveries.filter((d) => d.event.type === 'user.signed_out');
  expect(signedOut.at(-1).status).toBe(200);
});

test('ending one Authgear session leaves the user\'s other app session signed in', async ({ browser }) => {
  const [laptop, phone] = [await browser.newContext(), await browser.newContext()];
  const [onLaptop, onPhone] = [await laptop.newPage(), await phone.newPage()];
  await logIn(onLaptop, 'wh-two@example.com');
  await logIn(onPhone, 'wh-two@example.com');
  await expectHydrated(onPhone);
  // On the laptop, the provider's settings list both sessions; sign the phone's out.
  const settings = await laptop.newPage();
  await settings.goto(`${TEST.issuer}/settings`);
  await expect(settings.locator('#sessions li')).toHaveCount(2);
  await settings.locator('.revoke').click();
  await expect(settings.locator('#sessions li')).toHaveCount(1);
  await expectGuestWithReason(onPhone);
  expect(await currentUser(onPhone)).toBeNull();
  expect((await currentUser(onLaptop)).display_name).toBe('wh-two@example.com');
  await laptop.close();
  await phone.close();
});

test('user.disabled ends every session of the user, in every browser', async ({ browser, request }) => {
  const contexts = [await browser.newContext(), await browser.newContext()];
  const pages = await Promise.all(contexts.map((context) => context.newPage()));
  for (const page of pages) {
    await logIn(page, 'wh-disabled@example.com');
    await expectHydrated(page);
  }
  const other = await browser.newContext();
  const bystander = await other.newPage();
  await logIn(bystander, 'wh-bystander@example.com');
  const admin = await request.post(`${TEST.issuer}/__test/admin`, { data: { action: 'disable', email: 'wh-disabled@example.com' } });
  expect((await admin.json()).ended).toBe(2);
  for (const page of pages) await expectGuestWithReason(page);
  expect((await currentUser(bystander)).display_name).toBe('wh-bystander@example.com');

  // The user signs in again (a second later: events carry whole seconds); Authgear delivering
  // that same event again, as it does after a failure, does not end the new session.
  const deliveries = await (await request.get(`${TEST.issuer}/__test/webhooks`)).json();
  const index = deliveries.findLastIndex((d) => d.event.type === 'user.disabled');
  await expect.poll(() => Date.now() / 1000, { intervals: [100] })
    .toBeGreaterThanOrEqual(deliveries[index].event.context.timestamp + 1);
  await logIn(pages[0], 'wh-disabled@example.com');
  const again = await request.post(`${TEST.issuer}/__test/webhooks/redeliver`, { data: { index } });
  expect((await again.json()).status).toBe(200);
  expect((await currentUser(pages[0])).display_name).toBe('wh-disabled@example.com');
  for (const context of [...contexts, other]) await context.close();
});

test('forged, unknown and late webhooks end nothing; a current one does', async ({ page, request }) => {
  await logIn(page, 'wh-checks@example.com');
  const user = { id: await subjectOf(page) };
  const disabled = webhook('user.disabled', { user });
  const forged = webhook('user.disabled', { user }, { secret: 'not-the-secret' });
  expect((await postWebhook(request, TEST.appUrl, { body: disabled.body })).status(), 'no signature').toBe(401);
  expect((await postWebhook(request, TEST.appUrl, forged)).status(), 'wrong secret').toBe(401);
  const tampered = { body: disabled.body.replace('user.disabled', 'user.deleted'), signature: disabled.signature };
  expect((await postWebhook(request, TEST.appUrl, tampered)).status(), 'body changed').toBe(401);
  const unknown = webhook('user.some_future_event', { user, anything: [1, 2] });
  expect((await postWebhook(request, TEST.appUrl, unknown)).status(), 'unknown type').toBe(200);
  // Authgear retries with the event's own time: an event from before this login spares it.
  const late = webhook('user.disabled', { user }, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
  expect((await postWebhook(request, TEST.appUrl, late)).status(), 'late').toBe(200);
  expect((await currentUser(page)).display_name).toBe('wh-checks@example.com');
  // The same event, current: the session ends; delivered again, it is still a 200.
  expect((await postWebhook(request, TEST.appUrl, disabled)).status()).toBe(200);
  expect(await currentUser(page)).toBeNull();
  expect((await postWebhook(request, TEST.appUrl, disabled)).status(), 'repeated').toBe(200);
});

test('logout in one tab shows in the other tabs within 5 s; a login too', async ({ context }) => {
  const [first, second] = [await context.newPage(), await context.newPage()];
  await first.goto('/');
  await second.goto('/');
  await expectHydrated(second);
  // A login in the first tab shows in the second, without a reload.
  await first.locator('#qsLoginBtn').click();
  await first.locator('#email').fill('tabs@example.com');
  await first.locator('#continue').click();
  await first.locator('#code').fill(TEST.otpCode);
  await first.locator('#verify').click();
  await expect(first.locator('#profileDropDown')).toHaveText('Welcome tabs@example.com!');
  await expect(second.locator('#profileDropDown')).toHaveText('Welcome tabs@example.com!', WITHIN);
  await expectHydrated(first);
  await first.locator('#qsLogoutBtn').click();
  await expect(second.locator('#profileDropDown')).toHaveText('Welcome Guest', WITHIN);
});
