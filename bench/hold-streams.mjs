// Holds event streams open for bench/scale, in a process of its own that bench/scale starts at
// the lowest priority (`nice -n 19`): ten thousand open sockets, their keep-alive comments and
// their garbage collection must not take the cores from the server while it is measured.
// Commands come over the IPC channel:
//   { open: { url, cookies } }  opens GET url once per cookie; answers { opened: n }
//   { ended: [i, ...] }          answers { ended: [time or null, ...] }: when stream i said
//                                `event: ended` (ms since the Unix epoch, sub-millisecond)
//   { close: true }              closes every stream; answers { closed: n }

import http from 'node:http';

const streams = [];
const now = () => performance.timeOrigin + performance.now();

function open(url, cookie) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, headers: { cookie, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`${url} answered ${response.statusCode}`));
        return;
      }
      const stream = { request, ended: null, seen: '' };
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        // Only the tail is kept: a keep-alive comment every 25 s would otherwise pile up.
        stream.seen = (stream.seen + chunk).slice(-64);
        if (stream.ended === null && stream.seen.includes('event: ended')) stream.ended = now();
      });
      resolve(stream);
    });
    request.on('error', reject);
  });
}

process.on('message', async (command) => {
  try {
    if (command.open) {
      const { url, cookies } = command.open;
      for (let i = 0; i < cookies.length; i += 500) {
        streams.push(...await Promise.all(cookies.slice(i, i + 500).map((cookie) => open(url, cookie))));
      }
      process.send({ opened: streams.length });
    } else if (command.ended) {
      process.send({ ended: command.ended.map((i) => streams[i]?.ended ?? null) });
    } else if (command.close) {
      for (const { request } of streams) request.destroy();
      process.send({ closed: streams.splice(0).length });
    }
  } catch (error) {
    process.send({ error: String(error) });
  }
});
process.on('disconnect', () => process.exit(0));
