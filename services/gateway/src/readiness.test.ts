import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startGateway, startRedis } from '@chat/testkit';

test('/readyz answers at once while Redis hangs: a probe never waits on a Redis round trip', async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const gw = await startGateway({ redisUrl: redis.url });
  t.after(() => gw.stop());
  // A stopped redis-server keeps its socket open and answers nothing: the slow Redis a probe must not wait for.
  process.kill(redis.pid, 'SIGSTOP');
  try {
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const response = await fetch(`${gw.url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const elapsedMs = performance.now() - started;
      assert.ok([200, 503].includes(response.status), `status ${response.status}`);
      // A Redis command would wait for its 2 s timeout; 500 ms leaves room for a busy machine.
      assert.ok(elapsedMs < 500, `/readyz took ${elapsedMs.toFixed(0)} ms with Redis stopped`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    // A stopped process takes no SIGTERM: it must run again before the hooks stop it.
    process.kill(redis.pid, 'SIGCONT');
  }
});
