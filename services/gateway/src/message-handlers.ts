import { randomUUID } from 'node:crypto';
import { ErrorCode, type DirectFrame, type DirectMessage, type SendFrame, type Via } from '@chat/protocol';
import type { DirectOutcome, Published } from '@chat/cluster';
import { nowMs } from '@chat/runtime';
import type { Core } from './core.js';
import type { Refusal } from './moderation.js';
import type { Session } from './session.js';

export async function send(gw: Core, s: Session, f: SendFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    // A banned user is told so, not merely that it is not a member (the ban took it out of the room).
    const refusal = await gw.moderation.refuseJoin(s, f.room);
    gw.reply(s, refusal !== undefined ? { type: 'error', ...refusal } : { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before sending to it` }, f.ref);
    return;
  }
  const check = gw.moderation.refuseSend(s, f.room);
  // The common case: decided at once, and no earlier send of this connection is waiting: publish now.
  if (!(check instanceof Promise) && s.sendTurn === undefined) return post(gw, s, f, check);
  // Otherwise this send takes a turn: it reaches the bus after every earlier send of the connection,
  // and every later one after it, whatever each waited for (a connection's messages keep its order).
  const earlier = s.sendTurn;
  let handedOver!: () => void;
  const turn = new Promise<void>((resolve) => (handedOver = resolve));
  s.sendTurn = turn;
  let refusal: Refusal | undefined;
  try {
    await earlier;
    refusal = await check;
  } catch (error) {
    release(s, turn, handedOver);
    throw error;
  }
  const posted = post(gw, s, f, refusal);
  release(s, turn, handedOver);
  return posted;
}

/** Answers the refusal, or hands the message to the bus (synchronously, before the first await) and acks it. */
async function post(gw: Core, s: Session, f: SendFrame, refusal: Refusal | undefined): Promise<void> {
  if (refusal !== undefined) {
    gw.reply(s, { type: 'error', ...refusal }, f.ref);
    return;
  }
  const once = f.mid === undefined ? undefined : userKey(s.user, f.mid);
  const message = await publishMessage(gw, { room: f.room, from: s.user, text: f.text, once });
  gw.reply(s, ack(message.id, message.duplicate), f.ref);
}

function release(s: Session, turn: Promise<void>, handedOver: () => void): void {
  handedOver();
  if (s.sendTurn === turn) s.sendTurn = undefined;
}

export async function direct(gw: Core, s: Session, f: DirectFrame): Promise<void> {
  const once = f.mid === undefined ? undefined : userKey(s.user, `${f.to}:${f.mid}`);
  const outcome = await publishDirect(gw, { to: f.to, from: s.user, text: f.text, originConn: s.conn.id, once });
  if (!outcome.reached) gw.reply(s, { type: 'error', code: ErrorCode.UserOffline, message: `${f.to} has no open connection` }, f.ref);
  else gw.reply(s, ack(outcome.id, outcome.duplicate), f.ref);
}

/** A post into a room, from a client or the HTTP API. */
export interface Post {
  room: string;
  from: string;
  text: string;
  via?: Via;
  /** The idempotency key, already scoped to its sender (see userKey) or API route. */
  once: string | undefined;
}

/** The one path into a room, for clients and the HTTP API alike. Rejects with BusUnavailableError. */
export async function publishMessage(gw: Core, post: Post): Promise<Published> {
  const receivedAt = nowMs();
  const draft = { room: post.room, from: post.from, text: post.text, ts: Math.floor(receivedAt), receivedAt };
  const message = await gw.bus.publish({
    ...draft,
    ...(post.via === undefined ? {} : { via: post.via }),
    ...(post.once === undefined ? {} : { idempotencyKey: post.once }),
  });
  gw.metrics.busPublish((nowMs() - receivedAt) / 1000);
  if (message.duplicate) gw.metrics.duplicate();
  return message;
}

/** A direct message, from a client or the HTTP API. */
export interface Letter {
  to: string;
  from: string;
  text: string;
  /** The sending connection, which gets no copy; '' for the API. */
  originConn: string;
  via?: Via;
  once: string | undefined;
}

/** Sends a direct message; `reached` is false when the user has no open connection. */
export async function publishDirect(gw: Core, letter: Letter): Promise<DirectOutcome> {
  const receivedAt = nowMs();
  const event: DirectMessage = { type: 'direct', id: randomUUID(), from: letter.from, to: letter.to, text: letter.text, ts: Math.floor(receivedAt) };
  if (letter.via !== undefined) event.via = letter.via;
  const outcome = await gw.bus.direct({
    to: letter.to,
    from: letter.from,
    id: event.id,
    event: JSON.stringify(event),
    originConn: letter.originConn,
    receivedAt,
    ...(letter.once === undefined ? {} : { idempotencyKey: letter.once }),
  });
  gw.metrics.busPublish((nowMs() - receivedAt) / 1000);
  if (outcome.duplicate) gw.metrics.duplicate();
  return outcome;
}

/** A client's `mid` is its own: the same mid from two users is two messages. */
export function userKey(user: string, mid: string): string {
  return `u:${user}:${mid}`;
}

export function ack(id: string, duplicate: boolean) {
  return duplicate ? { type: 'ack' as const, id, duplicate } : { type: 'ack' as const, id };
}
