/**
 * The Lua scripts behind the Redis implementations. Each runs atomically, so a message is stored,
 * checked against its idempotency key and published in one step, and a presence change and its
 * event cannot be split.
 * Names are validated to [A-Za-z0-9_.-] before they reach here, so concatenating them into JSON
 * inside a script is safe.
 */
import type { Redis, Result } from 'ioredis';

/**
 * KEYS[1] room log, KEYS[2] the idempotency key (KEYS[1] again when there is none, so the script
 * names only keys of the room's slot). ARGV: maxlen, channel, body, receivedAt, idempotency ttl in ms
 * ('0' for none). Returns {id, duplicate}: for a key seen within its ttl, the first message's id and 1,
 * and nothing is stored or published.
 *
 * Every entry carries the id before it (field `p`), so a reader can tell "this id was trimmed right
 * before the oldest entry" (nothing missing) from "this id is not in the log" (lost: see chatAfter).
 */
const publish = `
local once = ARGV[5] ~= '0'
if once then
  local first = redis.call('GET', KEYS[2])
  if first then return {first, 1} end
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local prev = ''
if newest then prev = newest[1] end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'p', prev, 'b', ARGV[3])
if once then redis.call('SET', KEYS[2], id, 'PX', ARGV[5]) end
redis.call('PUBLISH', ARGV[2], 'm' .. prev .. ' ' .. id .. ' ' .. ARGV[4] .. ' ' .. ARGV[3])
return {id, 0}`;

/**
 * Nodes subscribe to their own channel and list the users they hold (see RedisBus). A node nobody
 * listens for any more (its process died, its subscriber connection is gone) is forgotten here.
 */
const directory = `
local function forgetDeadNode(nodes, node, usersPrefix, channel)
  if redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0 then return false end
  redis.call('DEL', usersPrefix .. node)
  redis.call('SREM', nodes, node)
  return true
end`;

/**
 * KEYS[1] directory nodes, KEYS[2] the idempotency key (KEYS[1] again when there is none). ARGV:
 * users-set key prefix, node channel prefix, recipient, sender ('' when the same), payload, message
 * id, idempotency ttl in ms ('0' for none). The payload goes once to each live node holding the
 * recipient and, when there is one, to those holding only the sender. Only those nodes are checked
 * for a listener (and forgotten when they have none), so a direct costs one SISMEMBER per node.
 * Returns {live nodes holding the recipient, id, duplicate}; a key is kept only for a delivered direct.
 */
const direct = `${directory}
local once = ARGV[7] ~= '0'
if once then
  local first = redis.call('GET', KEYS[2])
  if first then return {1, first, 1} end
end
local senders = {}
local reached = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local users, channel = ARGV[1] .. node, ARGV[2] .. node
  local holdsTo = redis.call('SISMEMBER', users, ARGV[3]) == 1
  local holdsFrom = not holdsTo and ARGV[4] ~= '' and redis.call('SISMEMBER', users, ARGV[4]) == 1
  if (holdsTo or holdsFrom) and not forgetDeadNode(KEYS[1], node, ARGV[1], channel) then
    if holdsTo then
      redis.call('PUBLISH', channel, ARGV[5])
      reached = reached + 1
    else
      senders[#senders + 1] = channel
    end
  end
end
if reached > 0 then
  for _, channel in ipairs(senders) do redis.call('PUBLISH', channel, ARGV[5]) end
  if once then redis.call('SET', KEYS[2], ARGV[6], 'PX', ARGV[7]) end
end
return {reached, ARGV[6], 0}`;

/** KEYS[1] directory nodes. ARGV: users-set key prefix, node channel prefix. Returns how many were forgotten. */
const directoryPrune = `${directory}
local gone = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if forgetDeadNode(KEYS[1], node, ARGV[1], ARGV[2] .. node) then gone = gone + 1 end
end
return gone`;

/**
 * KEYS[1] room log. ARGV: since ('' for the start), max, '1' when nothing can follow `since` (the
 * largest id). Returns {held, tip, entries}: held is 1 when every message after `since` is still in
 * the log: `since` is in it, or is the `p` (previous id) of its oldest entry. Otherwise `since` was
 * trimmed further back, or the log lost it (restarted empty, a lagging replica, a flush), or the
 * oldest entry predates the `p` field: 0, and the caller reports a gap. tip is the newest id ('' none).
 */
const after = `
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local tip = ''
if newest then tip = newest[1] end
if ARGV[1] == '' then return {1, tip, redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2])} end
local held = 1
if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if not oldest or oldest[2][1] ~= 'p' or oldest[2][2] ~= ARGV[1] then held = 0 end
end
if ARGV[3] == '1' then return {held, tip, {}} end
return {held, tip, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}`;

const presenceEvent = `
local function event(room, user, state)
  return 'p{"type":"presence","room":"' .. room .. '","user":"' .. user .. '","state":"' .. state .. '"}'
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * KEYS[1] room members (set of users), KEYS[2] nodes holding the user in the room (set),
 * KEYS[3] the node's entries (set of "room\nuser"), KEYS[4] node heartbeats (zset).
 * ARGV: room, user, node, channel. Returns 1 when this made the user present (a join event went out).
 */
const presenceJoin = `${presenceEvent}
redis.call('SADD', KEYS[3], ARGV[1] .. '\\n' .. ARGV[2])
redis.call('ZADD', KEYS[4], 'GT', now(), ARGV[3])
if redis.call('SADD', KEYS[2], ARGV[3]) == 1 and redis.call('SCARD', KEYS[2]) == 1 then
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('PUBLISH', ARGV[4], event(ARGV[1], ARGV[2], 'join'))
  return 1
end
return 0`;

/** The same KEYS as join but the heartbeats. ARGV: room, user, node, channel. Returns 1 when the user left. */
const presenceLeave = `${presenceEvent}
redis.call('SREM', KEYS[3], ARGV[1] .. '\\n' .. ARGV[2])
if redis.call('SREM', KEYS[2], ARGV[3]) == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[1], ARGV[2])
  redis.call('PUBLISH', ARGV[4], event(ARGV[1], ARGV[2], 'leave'))
  return 1
end
return 0`;

/** KEYS[1] node heartbeats. ARGV: node. */
const presenceHeartbeat = `${presenceEvent}
redis.call('ZADD', KEYS[1], 'GT', now(), ARGV[1])`;

/** KEYS[1] node heartbeats. ARGV: ttlMs. Returns the nodes whose last heartbeat is older than ttl. */
const presenceDead = `${presenceEvent}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now() - tonumber(ARGV[1]), 'LIMIT', 0, 16)`;

/**
 * Removes up to ARGV[3] entries of a node (dead, or gone), sending the leave events they owe, and
 * forgets the node once it has none. KEYS[1] node heartbeats, KEYS[2] the node's entries.
 * ARGV: node, key prefix, batch. Returns how many entries remain.
 */
const presenceReap = `${presenceEvent}
for _, entry in ipairs(redis.call('SPOP', KEYS[2], tonumber(ARGV[3]))) do
  local cut = string.find(entry, '\\n', 1, true)
  local room, user = string.sub(entry, 1, cut - 1), string.sub(entry, cut + 1)
  local tag = ARGV[2] .. '{' .. room .. '}'
  local holders = tag .. ':m:' .. user
  if redis.call('SREM', holders, ARGV[1]) == 1 and redis.call('SCARD', holders) == 0 then
    redis.call('SREM', tag .. ':members', user)
    redis.call('PUBLISH', tag, event(room, user, 'leave'))
  end
end
local left = redis.call('SCARD', KEYS[2])
if left == 0 then redis.call('ZREM', KEYS[1], ARGV[1]) end
return left`;

const scripts = {
  chatPublish: { numberOfKeys: 2, lua: publish },
  chatDirect: { numberOfKeys: 2, lua: direct },
  chatDirectoryPrune: { numberOfKeys: 1, lua: directoryPrune },
  chatAfter: { numberOfKeys: 1, lua: after },
  chatPresenceJoin: { numberOfKeys: 4, lua: presenceJoin },
  chatPresenceLeave: { numberOfKeys: 3, lua: presenceLeave },
  chatPresenceHeartbeat: { numberOfKeys: 1, lua: presenceHeartbeat },
  chatPresenceDead: { numberOfKeys: 1, lua: presenceDead },
  chatPresenceReap: { numberOfKeys: 2, lua: presenceReap },
};

type Arg = string | number;
export type StreamEntry = [id: string, fields: string[]];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatPublish(log: string, once: string, maxlen: Arg, channel: string, body: string, receivedAt: Arg, onceTtlMs: Arg): Result<[id: string, duplicate: number], Context>;
    chatDirect(nodes: string, once: string, usersPrefix: string, channelPrefix: string, to: string, from: string, payload: string, id: string, onceTtlMs: Arg): Result<[reached: number, id: string, duplicate: number], Context>;
    chatDirectoryPrune(nodes: string, usersPrefix: string, channelPrefix: string): Result<number, Context>;
    chatAfter(log: string, since: string, max: Arg, nothingAfter: '0' | '1'): Result<[held: number, tip: string, entries: StreamEntry[]], Context>;
    chatPresenceJoin(members: string, holders: string, entries: string, heartbeats: string, room: string, user: string, node: string, channel: string): Result<number, Context>;
    chatPresenceLeave(members: string, holders: string, entries: string, room: string, user: string, node: string, channel: string): Result<number, Context>;
    chatPresenceHeartbeat(heartbeats: string, node: string): Result<null, Context>;
    chatPresenceDead(heartbeats: string, ttlMs: Arg): Result<string[], Context>;
    chatPresenceReap(heartbeats: string, entries: string, node: string, prefix: string, batch: Arg): Result<number, Context>;
  }
}

/** Registers every script on a connection (ioredis then calls EVALSHA, falling back to EVAL). */
export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(scripts)) redis.defineCommand(name, definition);
}
