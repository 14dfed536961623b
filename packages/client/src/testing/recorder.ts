/** Records what a ChatClient hands the application, so tests can assert on it after the fact. */
import type { ChatMessage, DirectMessage, PresenceEvent } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import type { StatusChange } from '../events.js';
import type { RoomJoined } from '../rooms.js';

export interface Recording {
  /** Every room message handed over, live or in a `joined` history, in the order received. */
  messages: ChatMessage[];
  directs: DirectMessage[];
  presence: PresenceEvent[];
  joined: RoomJoined[];
  statuses: StatusChange[];
  texts(room?: string): string[];
  ids(room?: string): string[];
}

export function record(client: ChatClient): Recording {
  const r: Recording = {
    messages: [], directs: [], presence: [], joined: [], statuses: [],
    texts: (room) => r.messages.filter((m) => room === undefined || m.room === room).map((m) => m.text),
    ids: (room) => r.messages.filter((m) => room === undefined || m.room === room).map((m) => m.id),
  };
  client.on('message', (m) => r.messages.push(m));
  client.on('joined', (j) => {
    r.joined.push(j);
    r.messages.push(...j.history);
  });
  client.on('direct', (m) => r.directs.push(m));
  client.on('presence', (p) => r.presence.push(p));
  client.on('status', (s) => r.statuses.push(s));
  return r;
}
