// A presence-fill worker process (forked by presence-fill.mjs): opens `count` members at `ratePerSec`,
// alternating the gateways, joins each to the room, and reports what they got every 500 ms.
import WebSocket from 'ws';

const ROOM = 'stadium';
const PRESENCE = Buffer.from('"type":"presence"');
const COUNT = Buffer.from('"count":');

process.once('message', ({ urls, count, first, ratePerSec, localAddress }) => {
  const tally = { joined: 0, frames: 0, counts: 0, closed: 0, refused: 0, failed: 0 };
  const report = setInterval(() => process.send(tally), 500);
  report.unref();
  const everyMs = 1000 / ratePerSec;
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    setTimeout(() => {
      const n = first + i;
      const ws = new WebSocket(`${urls[n % urls.length]}?user=m${n}`, { localAddress, perMessageDeflate: false });
      ws.on('message', (data) => {
        if (data.indexOf(PRESENCE) !== -1) {
          tally.frames += 1;
          if (data.indexOf(COUNT) !== -1) tally.counts += 1;
        } else if (data.indexOf('"type":"welcome"') !== -1) ws.send(JSON.stringify({ type: 'join', room: ROOM }));
        else if (data.indexOf('"type":"joined"') !== -1) tally.joined += 1;
        else if (data.indexOf('"type":"error"') !== -1) {
          tally.refused += 1;
          if (tally.refused <= 3) console.error(`worker ${localAddress}: ${data}`);
        }
      });
      ws.on('close', () => (tally.closed += 1));
      ws.on('error', (error) => {
        tally.failed += 1;
        if (tally.failed <= 3) console.error(`worker ${localAddress}: ${error.message}`);
      });
    }, Math.max(0, started + i * everyMs - Date.now()));
  }
});
