/**
 * The Lua scripts behind the Redis implementations. Each runs atomically, so a message is stored,
 * checked against its idempotency key and published in one step, and a presence change and its
 * event cannot be split.
 *
 * Every script names only keys of one hash slot (a room's, or one single key), and publishes only
 * on a channel of that slot, so each runs unchanged on one Redis and on a Redis Cluster. The
 * publish command is an argument: PUBLISH on one Redis, SPUBLISH (sharded: only the slot's master
 * carries it) on a Redis Cluster. What the scripts publish is read by room-wire.ts.
 */
import type { Result } from 'ioredis';

/**
 * Appends one or more messages to a room, in order. KEYS[1] room log, KEYS[2] the log's newest id,
 * KEYS[3] the room's message counter, then one key per message: its idempotency key, or KEYS[1]
 * again when it has none (so the script names only keys of the room's slot). ARGV: maxlen, channel, publish command, then per message its
 * receivedAt, idempotency ttl in ms ('0' for none) and body. Returns per message {id, duplicate}:
 * for a key seen within its ttl (by an earlier call or earlier in this one), the first message's id
 * and 1, and nothing is stored or published.
 *
 * Every entry carries the id before it (field `p`), so a reader can tell "this id was trimmed right
 * before the oldest entry" (nothing missing) from "this id is not in the log" (lost: see chatAfter),
 * and, after the body, its running number in the room (field `n`), so unread counts are a
 * subtraction (see chatRead). The previous id is read from KEYS[2], a short string written with every append, rather than from
 * the log: XREVRANGE would hand the newest entry, body and all, to Lua on every append. Both keys
 * are written by this one script, so whatever keeps or loses the log (a restart, a replica, a flush)
 * keeps or loses them together; a log without KEYS[2] (written before it existed) is read once.
 */
const publish = `
local prev = redis.call('GET', KEYS[2])
if not prev then
  local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  prev = newest and newest[1] or ''
end
local stored = false
local out = {}
for i = 1, #KEYS - 3 do
  local at = 3 + (i - 1) * 3
  local ttl, body = ARGV[at + 2], ARGV[at + 3]
  local first = ttl ~= '0' and redis.call('GET', KEYS[i + 3])
  if first then
    out[i] = {first, 1}
  else
    local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'p', prev, 'b', body, 'n', redis.call('INCR', KEYS[3]))
    if ttl ~= '0' then redis.call('SET', KEYS[i + 3], id, 'PX', ttl) end
    redis.call(ARGV[3], ARGV[2], 'm' .. prev .. ' ' .. id .. ' ' .. ARGV[at + 1] .. ' ' .. body)
    out[i] = {id, 0}
    prev = id
    stored = true
  end
end
if stored then redis.call('SET', KEYS[2], prev) end
return out`;

/**
 * KEYS[1] room log, KEYS[2] the idempotency key (or KEYS[1]), KEYS[3] the room's message counter,
 * KEYS[4] the room's message states. ARGV: maxlen, channel, body, receivedAt, idempotency ttl in ms,
 * publish command (as chatPublish), then kind (edit, delete, reaction), target id, user, '1' for a
 * moderator, text, emoji, '1' for on, max distinct emoji, ts. Returns {id, outcome, prev}: outcome
 * 0 stored, 1 duplicate (the first id), 2 unchanged (id: the target's newest change, or the target),
 * 3 not found, 4 forbidden, 5 too many reactions (then id and prev are '').
 *
 * The mirror of applyChange (message-state.ts): the target must be a message the log holds and not
 * deleted; edits and deletes are its author's or a moderator's. The change is appended like a message
 * (same channel payload, so feeds deliver it in order) but takes no running number of its own, and
 * its target's state is written in the same step. States of trimmed messages go lazily: when the hash
 * holds twice maxlen entries, those older than the log's oldest entry are dropped.
 */
const change = `
local once = ARGV[5] ~= '0'
if once then
  local first = redis.call('GET', KEYS[2])
  if first then return {first, 1, '-'} end
end
local target = ARGV[8]
local found = redis.call('XRANGE', KEYS[1], target, target)[1]
local body = nil
if found then
  for i = 1, #found[2], 2 do
    if found[2][i] == 'b' then body = found[2][i + 1] end
  end
end
if not body or string.sub(body, 1, 9) == '{"type":"' then return {'', 3, ''} end
local raw = redis.call('HGET', KEYS[4], target)
local state = {}
if raw then state = cjson.decode(raw) end
if state.d then return {'', 3, ''} end
local kind, user = ARGV[7], ARGV[9]
if kind ~= 'reaction' and cjson.decode(body).from ~= user and ARGV[10] ~= '1' then return {'', 4, ''} end
if kind == 'edit' then
  state.t, state.e = ARGV[11], tonumber(ARGV[15])
elseif kind == 'delete' then
  state = {d = 1, v = state.v}
else
  local reactions = state.r or {}
  local users = reactions[ARGV[12]] or {}
  local at = nil
  for i, u in ipairs(users) do
    if u == user then at = i end
  end
  if (ARGV[13] == '1') == (at ~= nil) then return {state.v or target, 2, ''} end
  if at then
    table.remove(users, at)
  else
    if #users == 0 then
      local kinds = 0
      for _ in pairs(reactions) do kinds = kinds + 1 end
      if kinds >= tonumber(ARGV[14]) then return {'', 5, ''} end
    end
    table.insert(users, user)
  end
  if #users == 0 then reactions[ARGV[12]] = nil else reactions[ARGV[12]] = users end
  if next(reactions) == nil then state.r = nil else state.r = reactions end
end
local prev = redis.call('GET', KEYS[5])
if not prev then
  local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  prev = newest and newest[1] or ''
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[1], '*', 'p', prev, 'b', ARGV[3], 'n', redis.call('GET', KEYS[3]) or '0')
redis.call('SET', KEYS[5], id)
state.v = id
redis.call('HSET', KEYS[4], target, cjson.encode(state))
if once then redis.call('SET', KEYS[2], id, 'PX', ARGV[5]) end
redis.call(ARGV[6], ARGV[2], 'm' .. prev .. ' ' .. id .. ' ' .. ARGV[4] .. ' ' .. ARGV[3])
if redis.call('HLEN', KEYS[4]) > 2 * tonumber(ARGV[1]) then
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1][1]
  local om, os = string.match(oldest, '^(%d+)-(%d+)$')
  om, os = tonumber(om), tonumber(os)
  for _, key in ipairs(redis.call('HKEYS', KEYS[4])) do
    local km, ks = string.match(key, '^(%d+)-(%d+)$')
    km, ks = tonumber(km), tonumber(ks)
    if km < om or (km == om and ks < os) then redis.call('HDEL', KEYS[4], key) end
  end
end
return {id, 0, prev}`;

/**
 * KEYS[1] room log, KEYS[2] the room's loss mark. ARGV: since ('' for the start), max, '1' when
 * nothing can follow `since` (the largest id), '1' to record a loss, '1' when `since` is only a
 * lower bound (then held means: nothing after it was trimmed or recorded lost). Returns {held, tip, entries}:
 * held is 1 when every message after `since` is still in the log: `since` is in it, or is the `p`
 * (previous id) of its oldest entry, and no loss was recorded at or after it. Otherwise `since` was
 * trimmed further back, or the log lost what followed it (restarted empty, a lagging replica, a
 * flush), or the oldest entry predates the `p` field: 0, and the caller reports a gap. tip is the
 * newest id ('' none).
 *
 * A lagging replica still holds the ids before the loss, so a client resuming from one of them
 * could not tell: the first node to find its own cursor missing (a live message it delivered is
 * gone) records the newest surviving id before that cursor as the loss mark, and every `since` at
 * or before the mark is a gap from then on. Only nodes record (their cursor was delivered, so it
 * existed); a client's `since` never does, so a made-up id cannot mark a loss.
 */
const after = `
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as <= bs)
end
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
local tip = ''
if newest then tip = newest[1] end
if ARGV[1] == '' then return {1, tip, redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', ARGV[2])} end
local held = 1
if ARGV[5] == '1' then
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if oldest and (oldest[2][1] ~= 'p' or (oldest[2][2] ~= '' and not older(oldest[2][2], ARGV[1]))) then held = 0 end
elseif #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if not oldest or oldest[2][1] ~= 'p' or oldest[2][2] ~= ARGV[1] then held = 0 end
  if ARGV[4] == '1' then
    local survivor = redis.call('XREVRANGE', KEYS[1], '(' .. ARGV[1], '-', 'COUNT', 1)[1]
    local mark = redis.call('GET', KEYS[2])
    if survivor and (not mark or not older(survivor[1], mark)) then redis.call('SET', KEYS[2], survivor[1]) end
  end
end
if held == 1 then
  local mark = redis.call('GET', KEYS[2])
  if mark and older(ARGV[1], mark) then held = 0 end
end
if ARGV[3] == '1' then return {held, tip, {}} end
return {held, tip, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}`;

/**
 * KEYS[1] room log, KEYS[2] the room's message counter, KEYS[3] the room's read markers. ARGV: user,
 * id ('' to only read). Returns {marker, unread, moved}: marker '' for none.
 *
 * With an id, the marker moves to the newest message at or before it (one XREVRANGE: an id newer
 * than the tip marks the tip, an id between two messages the older one), only forward; an id older
 * than everything the log holds (trimmed) moves nothing. A marker is `<id> <n>`, n the message's
 * running number (0 for an entry written before numbering: every numbered message is newer), so
 * unread is the counter minus n. With no marker, unread is how many messages (not changes) the log holds.
 */
const read = `
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am > #bm end
  if am ~= bm then return am > bm end
  if #as ~= #bs then return #as > #bs end
  return as > bs
end
local marker, n = nil, 0
local stored = redis.call('HGET', KEYS[3], ARGV[1])
if stored then
  local id, number = string.match(stored, '^(%S+) (%d+)$')
  marker, n = id, tonumber(number)
end
local moved = 0
if ARGV[2] ~= '' then
  local entry = redis.call('XREVRANGE', KEYS[1], ARGV[2], '-', 'COUNT', 1)[1]
  if entry and (not marker or newer(entry[1], marker)) then
    local number = 0
    for i = 1, #entry[2], 2 do
      if entry[2][i] == 'n' then number = tonumber(entry[2][i + 1]) end
    end
    marker, n, moved = entry[1], number, 1
    redis.call('HSET', KEYS[3], ARGV[1], marker .. ' ' .. n)
  end
end
if not marker then
  -- The messages the log holds: from the oldest entry's number on (a change carries the number of
  -- the message before it, so it does not count), or every entry when it predates numbering.
  local oldest = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)[1]
  if not oldest then return {'', 0, 0} end
  local first, change = nil, false
  for i = 1, #oldest[2], 2 do
    if oldest[2][i] == 'n' then first = tonumber(oldest[2][i + 1]) end
    if oldest[2][i] == 'b' then change = string.sub(oldest[2][i + 1], 1, 9) == '{"type":"' end
  end
  if not first then return {'', redis.call('XLEN', KEYS[1]), 0} end
  local held = tonumber(redis.call('GET', KEYS[2]) or '0') - first
  if not change then held = held + 1 end
  return {'', held, 0}
end
local unread = tonumber(redis.call('GET', KEYS[2]) or '0') - n
if unread < 0 then unread = 0 end
return {marker, unread, moved}`;

const presenceEvent = `
local function event(user, state)
  return 'u' .. state .. ' ' .. user
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

/**
 * KEYS[1] room members (set of users), KEYS[2] nodes holding the user in the room (set): both in
 * the room's slot. ARGV: room, user, node, channel, publish command. Returns 1 when this made the
 * user present (a join event went out).
 */
const presenceJoin = `${presenceEvent}
if redis.call('SADD', KEYS[2], ARGV[3]) == 1 and redis.call('SCARD', KEYS[2]) == 1 then
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call(ARGV[5], ARGV[4], event(ARGV[2], 'join'))
  return 1
end
return 0`;

/** The same KEYS and ARGV as join. Returns 1 when this was the user's last node (a leave event went out). */
const presenceLeave = `${presenceEvent}
if redis.call('SREM', KEYS[2], ARGV[3]) == 1 and redis.call('SCARD', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[1], ARGV[2])
  redis.call(ARGV[5], ARGV[4], event(ARGV[2], 'leave'))
  return 1
end
return 0`;

/** KEYS[1] node heartbeats. ARGV: node. Scored by Redis's clock, so nodes with skewed clocks agree. */
const presenceHeartbeat = `${presenceEvent}
redis.call('ZADD', KEYS[1], 'GT', now(), ARGV[1])`;

/** KEYS[1] node heartbeats. ARGV: ttlMs. Returns the nodes whose last heartbeat is older than ttl. */
const presenceDead = `${presenceEvent}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now() - tonumber(ARGV[1]), 'LIMIT', 0, 16)`;

const scripts = {
  // The number of keys varies with the messages: it is the first argument of every call.
  chatPublish: { lua: publish },
  chatChange: { numberOfKeys: 5, lua: change },
  chatRead: { numberOfKeys: 3, lua: read },
  chatAfter: { numberOfKeys: 2, lua: after },
  chatPresenceJoin: { numberOfKeys: 2, lua: presenceJoin },
  chatPresenceLeave: { numberOfKeys: 2, lua: presenceLeave },
  chatPresenceHeartbeat: { numberOfKeys: 1, lua: presenceHeartbeat },
  chatPresenceDead: { numberOfKeys: 1, lua: presenceDead },
};

type Arg = string | number;
export type StreamEntry = [id: string, fields: string[]];
/** The command a script publishes with: PUBLISH on one Redis, SPUBLISH on a Redis Cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    chatPublish(numberOfKeys: number, ...keysThenArgs: Arg[]): Result<[id: string, duplicate: number][], Context>;
    chatChange(log: string, once: string, serial: string, states: string, tip: string, maxlen: Arg, channel: string, body: string, receivedAt: Arg, onceTtlMs: Arg, publish: PublishCommand,
      kind: string, target: string, user: string, moderator: '0' | '1', text: string, emoji: string, on: '0' | '1', maxReactions: Arg, ts: Arg): Result<[id: string, outcome: number, prev: string], Context>;
    chatAfter(log: string, lost: string, since: string, max: Arg, nothingAfter: '0' | '1', recordLoss: '0' | '1', bound: '0' | '1'): Result<[held: number, tip: string, entries: StreamEntry[]], Context>;
    chatRead(log: string, serial: string, markers: string, user: string, id: string): Result<[marker: string, unread: number, moved: number], Context>;
    chatPresenceJoin(members: string, holders: string, room: string, user: string, node: string, channel: string, publish: PublishCommand): Result<number, Context>;
    chatPresenceLeave(members: string, holders: string, room: string, user: string, node: string, channel: string, publish: PublishCommand): Result<number, Context>;
    chatPresenceHeartbeat(heartbeats: string, node: string): Result<null, Context>;
    chatPresenceDead(heartbeats: string, ttlMs: Arg): Result<string[], Context>;
  }
}

/** What scripts are registered on: an ioredis Redis or Cluster. */
interface ScriptHost {
  defineCommand(name: string, definition: { numberOfKeys?: number; lua: string }): void;
}

/** Registers every script on a connection (ioredis then calls EVALSHA, falling back to EVAL). */
export function defineScripts(redis: ScriptHost): void {
  for (const [name, definition] of Object.entries(scripts)) redis.defineCommand(name, definition);
}
