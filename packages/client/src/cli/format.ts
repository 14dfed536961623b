import type { ChatMessage, DirectMessage, PresenceEvent } from '@chat/protocol';
import type { RoomJoined } from '../rooms.js';
import type { StatusChange } from '../events.js';

/** Plain-text lines for the terminal client; no colours, so output stays readable in logs and pipes. */

function clock(ts: number): string {
  return new Date(ts).toTimeString().slice(0, 8);
}

function via(message: { via?: string }): string {
  if (message.via === 'api') return ' (api)';
  if (message.via === 'mqtt') return ' (device)';
  return '';
}

export function formatMessage(m: ChatMessage): string {
  return `${clock(m.ts)} [${m.room}] ${m.from}${via(m)}: ${m.text}`;
}

export function formatDirect(m: DirectMessage, me: string | undefined): string {
  const arrow = m.from === me ? `to ${m.to}` : `from ${m.from}`;
  return `${clock(m.ts)} [dm ${arrow}]${via(m)}: ${m.text}`;
}

export function formatPresence(p: PresenceEvent): string {
  return `* ${p.user} ${p.state === 'join' ? 'joined' : 'left'} ${p.room}`;
}

export function formatMembers(room: string, members: string[]): string {
  return `* ${room}: ${members.length} here: ${members.join(', ')}`;
}

/** "* rooms: lobby (current), news (3 unread), dev". */
export function formatRooms(rooms: string[], current: string | undefined, unread: (room: string) => number): string {
  const item = (room: string): string => {
    if (room === current) return `${room} (current)`;
    const count = unread(room);
    return count > 0 ? `${room} (${count} unread)` : room;
  };
  return `* rooms: ${rooms.map(item).join(', ') || '(none)'}`;
}

export function formatJoined(j: RoomJoined): string[] {
  const lines = j.history.map(formatMessage);
  if (j.resumed) {
    lines.unshift(`* resumed ${j.room}: ${j.history.length} missed message(s)${j.history.length > 0 ? ':' : ''}`);
  } else {
    lines.unshift(`* joined ${j.room}`);
    lines.push(formatMembers(j.room, j.members));
  }
  if (j.gap) lines.push(`* ${j.room}: some messages from while you were away are no longer kept (gap)`);
  return lines;
}

export function formatStatus(s: StatusChange): string | undefined {
  switch (s.state) {
    case 'connected':
      return `* connected to node ${s.node ?? '?'} (${s.url ?? ''})`;
    case 'connecting':
    case 'reconnecting':
      if (s.retryInMs === undefined) return undefined; // an attempt starting; its outcome is printed
      return `* ${s.state === 'connecting' ? 'cannot connect' : 'disconnected'} (${describeClose(s)}); ` +
        `retrying ${s.url ?? ''} in ${(s.retryInMs / 1000).toFixed(1)} s`;
    case 'closed':
      return s.code === undefined ? '* closed' : `* closed by the server (${describeClose(s)}); not reconnecting`;
    case 'idle':
      return undefined;
  }
}

/**
 * A close in plain words: the name of its code, then the server's reason when it adds something.
 * A 1006 with a reason is a connection that failed for a known cause (connection refused, DNS,
 * TLS, 401 unauthorized: see connect-failure.ts), which is then the whole story.
 */
export function describeClose(s: Pick<StatusChange, 'code' | 'reason'>): string {
  const known: Record<number, string> = {
    1000: 'closed', 1001: 'node draining', 1006: 'connection lost', 4008: 'too slow to read',
    4401: 'token expired', 4403: 'disconnected by an operator', 4429: 'rate limited',
  };
  if (s.code === 1006 && s.reason) return s.reason;
  const name = s.code === undefined ? 'closed' : known[s.code] ?? `code ${s.code}`;
  return s.reason && s.reason !== name ? `${name}: ${s.reason}` : name;
}

export const USAGE_LINE = '* commands: /join ROOM, /leave [ROOM], /room ROOM, /rooms, /read, /dm USER TEXT, /who [ROOM], /history [N], /quit';
