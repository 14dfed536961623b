import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenKeeper, tokenExpiryMs } from './token.js';

function jwt(claims: object): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}.signature`;
}

test('the expiry of a JWT is read from its exp claim', () => {
  assert.equal(tokenExpiryMs(jwt({ sub: 'alice', exp: 1_700_000_000 })), 1_700_000_000_000);
  assert.equal(tokenExpiryMs(jwt({ sub: 'ß?>>~~' })), undefined);
  assert.equal(tokenExpiryMs('opaque-token'), undefined);
  assert.equal(tokenExpiryMs('a.!!!.c'), undefined);
});

test('an expired token is replaced before connecting; a valid one is kept', async () => {
  let now = 1_000_000;
  let fetched = 0;
  const keeper = new TokenKeeper(jwt({ exp: 1010 }), () => jwt({ exp: 2000, n: ++fetched }), 30_000, () => now);
  const first = await keeper.get();
  assert.equal(fetched, 0);
  now = 1_010_000;
  const second = await keeper.get();
  assert.equal(fetched, 1);
  assert.notEqual(first, second);
});

test('after 4401 the token used is dropped, but a fresher one fetched meanwhile is kept', async () => {
  let fetched = 0;
  const keeper = new TokenKeeper('old', () => `fresh-${++fetched}`, 30_000);
  keeper.invalidate('old');
  assert.equal(await keeper.get(), 'fresh-1');
  keeper.invalidate('old');
  assert.equal(await keeper.get(), 'fresh-1');
});

test('without a token source, the given token is kept whatever happens', async () => {
  const keeper = new TokenKeeper('static', undefined, 30_000);
  keeper.invalidate('static');
  assert.equal(await keeper.get(), 'static');
  assert.equal(new TokenKeeper(undefined, undefined, 1).enabled, false);
});

test('a replacement is fetched ahead of expiry', async () => {
  const exp = Math.floor(Date.now() / 1000) + 1;
  let calls = 0;
  const keeper = new TokenKeeper(jwt({ exp }), () => (calls += 1, jwt({ exp: exp + 60 })), 30_000);
  keeper.scheduleRefresh();
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(calls, 1, 'fetched once, a quarter of the remaining life before expiry');
  keeper.stop();
});

test('concurrent requests for a token share one fetch, and a failing source rejects', async () => {
  let calls = 0;
  const keeper = new TokenKeeper(undefined, async () => (calls += 1, 'x'), 1);
  assert.deepEqual(await Promise.all([keeper.get(), keeper.get()]), ['x', 'x']);
  assert.equal(calls, 1);
  const failing = new TokenKeeper(undefined, () => { throw new Error('issuer down'); }, 1);
  await assert.rejects(failing.get(), /issuer down/);
});
