// Which way the benchmark publishes to Centrifugo: over its client protocol (a publish command on
// the sender's WebSocket, answered by a reply) or through its HTTP API (POST /api/publish with an
// API key). One node with the benchmark's configuration plus the HTTP API, one channel with one
// subscriber, 32 publishes in flight for a few seconds each way, alternating; prints publishes/s
// and Centrifugo's CPU time per publish. bench/lib/systems.mjs publishes the faster way.
//
//   node bench/centrifugo-publish.mjs [--seconds 4] [--rounds 2] [--inflight 32]
import { parseArgs } from 'node:util';
import { startRedis, startNodes, cpuMs, centrifugoCommand, centrifugoConfig } from './lib/systems.mjs';
import { CentrifugoClient } from './lib/clients.mjs';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '2' },
    inflight: { type: 'string', default: '32' },
  },
});
const API_KEY = 'bench-publish-key';
const ROOM = 'publish';
const text = `${Date.now()}.000 0 ${'x'.repeat(40)}`;

const redis = await startRedis();
const cluster = await startNodes('centrifugo', 1, redis.url, {
  command: (port, redisUrl) => centrifugoCommand(port, { ...centrifugoConfig(port, redisUrl), http_api: { key: API_KEY } }),
});
const [node] = cluster.nodes;
const client = new CentrifugoClient({ url: node.url });
try {
  await client.open();
  await client.join(ROOM);

  const overClient = () => new Promise((resolve, reject) => client.send(ROOM, text, (error) => (error ? reject(error) : resolve())));
  const overHttp = async () => {
    const response = await fetch(`http://127.0.0.1:${node.port}/api/publish`, {
      method: 'POST',
      headers: { 'X-API-Key': API_KEY, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: `chat:${ROOM}`, data: { text } }),
    });
    const body = await response.text();
    if (!response.ok || body.includes('"error"')) throw new Error(`HTTP API publish: ${response.status} ${body}`);
  };

  /** `inflight` loops each publishing one message after another until the time is up. */
  async function measure(name, publishOne) {
    const endsAt = Date.now() + Number(args.seconds) * 1000;
    const startedAt = Date.now();
    const cpuBefore = cpuMs(node.pid);
    let published = 0;
    await Promise.all(Array.from({ length: Number(args.inflight) }, async () => {
      while (Date.now() < endsAt) {
        await publishOne();
        published++;
      }
    }));
    const seconds = (Date.now() - startedAt) / 1000;
    const cpuUs = ((cpuMs(node.pid) - cpuBefore) * 1000) / published;
    console.log(`${name}: ${(published / seconds).toFixed(0)} publishes/s, Centrifugo CPU ${cpuUs.toFixed(1)} µs per publish`);
  }

  for (let round = 0; round < Number(args.rounds); round++) {
    await measure('client protocol', overClient);
    await measure('HTTP API       ', overHttp);
  }
} finally {
  client.close();
  await cluster.stop();
  await redis.stop();
}
