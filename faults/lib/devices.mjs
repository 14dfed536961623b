// MQTT devices over mqtt.js v5 with persistent sessions (clean: false), as docs/protocol.md#mqtt sees
// them: posters publish at QoS 1 and count PUBACKs; subscribers take a room's messages at QoS 1.
import mqtt from 'mqtt';
import { sleep } from './cluster.mjs';

function connect(url, clientId) {
  const client = mqtt.connect(url, {
    clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 200, connectTimeout: 5000,
  });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/**
 * A device that posts `count` messages `<device>.<seq> <ms>` to the room, one every `intervalMs`.
 * `pubacks` lists the seqs the broker acknowledged.
 */
export async function startPoster(url, device, room, { count, intervalMs }) {
  const client = await connect(url, device);
  const poster = { device, pubacks: [], failed: 0, done: undefined, client };
  poster.done = (async () => {
    const pending = [];
    for (let seq = 0; seq < count; seq++) {
      pending.push(new Promise((resolve) => {
        client.publish(`chat/rooms/${room}/send/${device}`, `${device}.${seq} ${Date.now()}`, { qos: 1 }, (error) => {
          if (error) poster.failed += 1;
          else poster.pubacks.push(seq);
          resolve();
        });
      }));
      await sleep(intervalMs);
    }
    await Promise.race([Promise.all(pending), sleep(45_000)]);
  })();
  return poster;
}

/**
 * A device subscribed at QoS 1 to the room's messages; `messages` holds every event it got, with
 * `redelivered` set when the broker resent it with the DUP flag (QoS 1 is at least once: a message
 * in flight when the broker restarts may come again, and that is MQTT, not the bridge).
 */
export async function startSubscriber(url, device, room) {
  const client = await connect(url, device);
  const messages = [];
  client.on('message', (_topic, payload, packet) => {
    let event;
    try { event = JSON.parse(String(payload)); } catch { event = { id: 'unparsable' }; }
    messages.push({ ...event, redelivered: packet.dup === true });
  });
  await client.subscribeAsync(`chat/rooms/${room}/messages`, { qos: 1 });
  return { device, messages, client };
}

export function endAll(clients) {
  return Promise.all(clients.map((c) => c.client.endAsync(true).catch(() => undefined)));
}
