/**
 * The Lua scripts behind the Redis implementations. Each runs atomically, so a message is stored
 * and published in one step, and a presence change and its event cannot be split.
 * Names are validated to [A-Za-z0-9_.-] before they reach here, so concatenating them into JSON
 * inside a script is safe.
 */
import type { Redis, Result } from 'ioredis';

/**
 * KEYS[1] room log, KEYS[2] newest trimmed id. ARGV: maxlen, channel, body, receivedAt. Returns the new id.
 * Trimming does not move Redis's own max-deleted-entry-id, so the newest id trimmed away is kept in
 * KEYS[2]: a resume from an id older than it has a gap.
 */
const publish = `
local maxlen = tonumber(ARGV[1])
local length = redis.call('XLEN', KEYS[1])
local prev = ''
if length > 0 then prev = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1] end
if length >= maxlen then
  local trimmed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', length - maxlen + 1)
  redis.call('SET', KEYS[2], trimmed[#trimmed][1])
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, '*', 'b', ARGV[3])
redis.call('PUBLISH', ARGV[2], 'm' .. prev .. ' ' .. id .. ' ' .. ARGV[4] .. ' ' .. ARGV[3])
return id`;

/** ARGV: channel of the recipient, channel of the sender ('' for none), payload. Returns receivers of the first. */
const direct = `
local n = redis.call('PUBLISH', ARGV[1], ARGV[3])
if n > 0 and ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return n`;

/**
 * KEYS[1] room log, KEYS[2] newest trimmed id. ARGV: since ('' for the start), max.
 * Returns {newestTrimmedId, entries}; newestTrimmedId is '' when the log does not exist at all.
 */
const after = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'', {}} end
local trimmed = redis.call('GET', KEYS[2]) or '0-0'
local start = '-'
if ARGV[1] ~= '' then start = '(' .. ARGV[1] end
return {trimmed, redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', ARGV[2])}`;

const presenceEvent = `
local function event(room, user, state)
  return 'p{"type":"presence","room":"' .. room .. '","user":"' .. user .. '","state":"' .. state .. '"}'
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Sets the user's score in the room to its latest node expiry, or removes it; true when removed.
local function settle(members, nodes, user, t)
  redis.call('ZREMRANGEBYSCORE', nodes, '-inf', t)
  local newest = redis.call('ZRANGE', nodes, -1, -1, 'WITHSCORES')
  if newest[2] then
    redis.call('ZADD', members, newest[2], user)
    return false
  end
  return redis.call('ZREM', members, user) == 1
end`;

/** KEYS[1] members, KEYS[2] nodes of the user. ARGV: room, user, node, ttlMs, channel. Returns 1 when first. */
const presenceJoin = `${presenceEvent}
local t = now()
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', t)
local first = redis.call('ZCARD', KEYS[2]) == 0
redis.call('ZADD', KEYS[2], t + ttl, ARGV[3])
redis.call('ZADD', KEYS[1], 'GT', t + ttl, ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl * 3)
redis.call('PEXPIRE', KEYS[1], ttl * 3)
if first then
  redis.call('PUBLISH', ARGV[5], event(ARGV[1], ARGV[2], 'join'))
  return 1
end
return 0`;

/** KEYS[1] members, KEYS[2] nodes of the user. ARGV: room, user, node, channel. Returns 1 when last. */
const presenceLeave = `${presenceEvent}
redis.call('ZREM', KEYS[2], ARGV[3])
if settle(KEYS[1], KEYS[2], ARGV[2], now()) then
  redis.call('PUBLISH', ARGV[4], event(ARGV[1], ARGV[2], 'leave'))
  return 1
end
return 0`;

/** KEYS[1] members. ARGV: room, prefix of the node sets, channel. Returns how many users left. */
const presenceSweep = `${presenceEvent}
local t = now()
local left = 0
for _, user in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', t)) do
  if settle(KEYS[1], ARGV[2] .. user, user, t) then
    redis.call('PUBLISH', ARGV[3], event(ARGV[1], user, 'leave'))
    left = left + 1
  end
end
return left`;

/** KEYS[1] members. Returns the users with an unexpired entry. */
const presenceMembers = `
local t = redis.call('TIME')
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)), '+inf')`;

const scripts = {
  chatPublish: { numberOfKeys: 2, lua: publish },
  chatDirect: { numberOfKeys: 0, lua: direct },
  chatAfter: { numberOfKeys: 2, lua: after },
  chatPresenceJoin: { numberOfKeys: 2, lua: presenceJoin },
  chatPresenceLeave: { numberOfKeys: 2, lua: presenceLeave },
  chatPresenceSweep: { numberOfKeys: 1, lua: presenceSweep },
  chatPresenceMembers: { numberOfKeys: 1, lua: presenceMembers },
};

type Arg = string | number;
export type StreamEntry = [id: string, fields: string[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatPublish(log: string, trimmed: string, maxlen: Arg, channel: string, body: string, receivedAt: Arg): Result<string, Context>;
    chatDirect(channel: string, senderChannel: string, payload: string): Result<number, Context>;
    chatAfter(log: string, trimmed: string, since: string, max: Arg): Result<[string, StreamEntry[]], Context>;
    chatPresenceJoin(members: string, nodes: string, room: string, user: string, node: string, ttlMs: Arg, channel: string): Result<number, Context>;
    chatPresenceLeave(members: string, nodes: string, room: string, user: string, node: string, channel: string): Result<number, Context>;
    chatPresenceSweep(members: string, room: string, nodesPrefix: string, channel: string): Result<number, Context>;
    chatPresenceMembers(members: string): Result<string[], Context>;
  }
}

/** Registers every script on a connection (ioredis then calls EVALSHA, falling back to EVAL). */
export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(scripts)) redis.defineCommand(name, definition);
}
