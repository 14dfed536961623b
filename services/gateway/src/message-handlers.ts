import { randomUUID } from 'node:crypto';
import { ErrorCode, type DirectFrame, type DirectMessage, type SendFrame, type Via } from '@chat/protocol';
import type { RoomMessage } from '@chat/cluster';
import { nowMs } from '@chat/runtime';
import type { Gateway } from './gateway.js';
import type { Session } from './session.js';

export async function send(gw: Gateway, s: Session, f: SendFrame): Promise<void> {
  if (!s.rooms.has(f.room)) {
    gw.reply(s, { type: 'error', code: ErrorCode.NotJoined, message: `join ${f.room} before sending to it` }, f.ref);
    return;
  }
  const message = await publishMessage(gw, f.room, s.user, f.text, undefined);
  gw.reply(s, { type: 'ack', id: message.id }, f.ref);
}

export async function direct(gw: Gateway, s: Session, f: DirectFrame): Promise<void> {
  const id = await publishDirect(gw, f.to, s.user, f.text, s.conn.id, undefined);
  if (id === undefined) gw.reply(s, { type: 'error', code: ErrorCode.UserOffline, message: `${f.to} has no open connection` }, f.ref);
  else gw.reply(s, { type: 'ack', id }, f.ref);
}

/** The one path into a room, for clients and the HTTP API alike. Rejects with BusUnavailableError. */
export async function publishMessage(gw: Gateway, room: string, from: string, text: string, via: Via | undefined): Promise<RoomMessage> {
  const receivedAt = nowMs();
  const draft = { room, from, text, ts: Math.floor(receivedAt), receivedAt };
  const message = await gw.bus.publish(via === undefined ? draft : { ...draft, via });
  gw.metrics.busPublish((nowMs() - receivedAt) / 1000);
  return message;
}

/** Sends a direct message; resolves with its id, or undefined when the user has no open connection. */
export async function publishDirect(gw: Gateway, to: string, from: string, text: string, originConn: string, via: Via | undefined): Promise<string | undefined> {
  const receivedAt = nowMs();
  const event: DirectMessage = { type: 'direct', id: randomUUID(), from, to, text, ts: Math.floor(receivedAt) };
  if (via !== undefined) event.via = via;
  const reached = await gw.bus.direct(to, from, JSON.stringify(event), originConn, receivedAt);
  gw.metrics.busPublish((nowMs() - receivedAt) / 1000);
  return reached ? event.id : undefined;
}
