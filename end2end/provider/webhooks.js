// Authgear-shaped webhooks (authgear-server's docs/specs/hook.md and event.md): a JSON event
// `{ id, seq, type, payload, context }` POSTed with `x-authgear-body-signature`, the hex
// HMAC-SHA256 of the exact body under the webhook secret. Authgear retries a failed delivery for
// days with the same body; here a test asks for that (`redeliver`).
import crypto from 'node:crypto';

export function webhooks({ url, secret, clientId }) {
  const log = []; // { event, body, status, error }
  let seq = 0;

  async function deliver(entry) {
    try {
      const signature = crypto.createHmac('sha256', secret).update(entry.body).digest('hex');
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-authgear-body-signature': signature },
        body: entry.body,
      });
      entry.status = response.status;
      entry.retryAfter = response.headers.get('retry-after');
    } catch (error) {
      entry.status = 0;
      entry.error = error.message;
    }
    console.log(`[local provider] webhook ${entry.event.type} -> ${entry.status}`);
    return entry;
  }

  return {
    /** Sends an event now (awaited by nobody: Authgear delivers after the change). */
    send(type, payload, triggeredBy = 'user') {
      if (!url || !secret) return;
      seq += 1;
      const event = {
        id: crypto.randomUUID(),
        seq,
        type,
        payload,
        context: {
          app_id: 'local-demo',
          client_id: clientId,
          timestamp: Math.floor(Date.now() / 1000),
          user_id: payload.user?.id,
          triggered_by: triggeredBy,
          preferred_languages: [],
          language: 'en',
        },
      };
      const entry = { event, body: JSON.stringify(event), status: null };
      log.push(entry);
      entry.delivered = deliver(entry);
    },
    /** Every event so far, with the app's answer once it came. */
    deliveries() {
      return log.map(({ event, status, retryAfter, error }) => ({ event, status, retryAfter, error }));
    },
    /** Delivers event `index` again, the same bytes. */
    async redeliver(index) {
      const entry = log[index];
      if (!entry) throw new Error(`no event ${index}`);
      await entry.delivered;
      const again = await deliver({ ...entry });
      return { status: again.status, retryAfter: again.retryAfter };
    },
  };
}
