// The script of leptos-authgear's `SessionExpiryWarning`: shows the warning `data-before`
// seconds before the session ends, in every tab of the browser; "Stay signed in" counts as
// activity and hides it in every tab at once. Plain JavaScript, loaded only by a page that shows
// the warning to a signed-in user, so that the WASM bundle every page loads does not grow
// (docs/decisions/0012-expiry-warning-script.md). The session's end itself is shown by the
// session watcher, as for any other end.
const box = document.querySelector('[data-session-expiry]');
if (box) watch(box);

function watch(box) {
  const before = Number(box.dataset.before) * 1000;
  const idleText = box.querySelector('[data-idle]');
  const limitText = box.querySelector('[data-limit]');
  const stay = box.querySelector('[data-stay]');
  const channel = 'BroadcastChannel' in window
    ? new BroadcastChannel('leptos-authgear-expiry') : null;
  // Milliseconds since the epoch: the end unless there is activity, and the absolute end
  // (unknown until the server is asked).
  let endsAt = Number(box.dataset.endsAt) * 1000;
  let limitAt = Infinity;
  let timer = 0;
  let ticker = 0;

  const ask = async () => {
    try {
      const response = await fetch(box.dataset.status, { cache: 'no-store' });
      return response.ok ? await response.json() : null;
    } catch {
      return null;
    }
  };

  const hide = () => {
    box.hidden = true;
    clearInterval(ticker);
  };

  const schedule = () => {
    clearTimeout(timer);
    hide();
    timer = setTimeout(check, Math.max(0, endsAt - before - Date.now()));
  };

  // Activity elsewhere (another tab's page or "Stay signed in") moved the end.
  const later = (ends, limit) => {
    if (limit) limitAt = limit;
    if (ends > endsAt) {
      endsAt = ends;
      schedule();
    }
  };

  const tick = () => {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    for (const countdown of box.querySelectorAll('[data-countdown]')) countdown.textContent = text;
    if (left === 0) {
      clearInterval(ticker);
      timer = setTimeout(check, 1000);
    }
  };

  const show = () => {
    // "Stay" cannot move the absolute end: a different message, no button.
    const final = endsAt >= limitAt;
    idleText.hidden = final;
    limitText.hidden = !final;
    stay.hidden = final;
    box.hidden = false;
    tick();
    clearInterval(ticker);
    ticker = setInterval(tick, 1000);
  };

  // Before showing the warning, ask the server: another tab's activity may have moved the end.
  async function check() {
    const status = await ask();
    if (!status) {
      timer = setTimeout(check, 5000);
      return;
    }
    if (!status.signed_in) {
      hide();
      return;
    }
    limitAt = status.limit_at * 1000;
    if (status.ends_at * 1000 > endsAt) {
      later(status.ends_at * 1000);
      return;
    }
    show();
  }

  stay.addEventListener('click', async () => {
    stay.disabled = true;
    // Any signed-in call counts as activity; this one changes nothing.
    const touched = await fetch(box.dataset.touch, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    }).catch(() => null);
    const status = touched?.ok ? await ask() : null;
    stay.disabled = false;
    if (status?.signed_in) {
      later(status.ends_at * 1000, status.limit_at * 1000);
      channel?.postMessage({ endsAt, limitAt });
    }
  });

  channel?.addEventListener('message', (event) => later(event.data.endsAt, event.data.limitAt));
  // This page's own load was activity: the other tabs' warnings go.
  channel?.postMessage({ endsAt, limitAt: null });
  schedule();
}
