// A browser application of the packed SDK, bundled by esbuild from the project where the tarball
// was installed and run in Chromium by src/e2e/package.test.ts: carol joins a room, posts, and
// waits for dave (a Node client) to answer her.
import { ChatClient } from '@chat/client';

globalThis.talkToDave = async (url, room) => {
  const carol = new ChatClient({ url, user: 'carol' });
  const answered = new Promise((resolve) => {
    carol.on('message', (message) => {
      if (message.from === 'dave') resolve(message);
    });
  });
  const welcome = await carol.connect();
  await carol.join(room);
  const sent = await carol.send(room, 'hello from chromium');
  const answer = await answered;
  carol.close();
  return { node: welcome.node, sent, answer: { id: answer.id, text: answer.text } };
};
