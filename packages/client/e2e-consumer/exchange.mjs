// A Node application of the packed SDK, run by src/e2e/package.test.ts in an empty project where
// only the tarball was installed: alice on the first URL posts to a room, bob on the second hears
// it. Prints what happened as one JSON line; the test's timeout kills it if anything hangs.
//   node exchange.mjs ws://gateway-a/ws ws://gateway-b/ws room
import { createNodeClient } from '@chat/client/node';

const [aliceUrl, bobUrl, room] = process.argv.slice(2);
const alice = createNodeClient({ url: aliceUrl, user: 'alice' });
const bob = createNodeClient({ url: bobUrl, user: 'bob' });
const heard = new Promise((resolve) => {
  bob.on('message', (message) => {
    if (message.from === 'alice') resolve(message);
  });
});

const welcomes = await Promise.all([alice.connect(), bob.connect()]);
await bob.join(room);
await alice.join(room);
const sent = await alice.send(room, 'hello from the tarball');
const message = await heard;
alice.close();
bob.close();
console.log(JSON.stringify({ nodes: welcomes.map((w) => w.node), sent, message }));
