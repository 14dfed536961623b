import type { ChatMessage, DirectMessage, ModerationAction, ModerationEvent, PresenceEvent, ReactionSummary } from '@chat/protocol';
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

/** `#n` first when the terminal numbered the message (what /edit, /delete and /react take). */
export function formatMessage(m: ChatMessage, n?: number): string {
  const text = m.deleted === true ? '(message deleted)' : `${m.text}${m.edited === undefined ? '' : ' (edited)'}`;
  const reactions = m.reactions === undefined || m.deleted === true ? '' : `  ${formatReactions(m.reactions)}`;
  return `${n === undefined ? '' : `#${n} `}${clock(m.ts)} [${m.room}] ${m.from}${via(m)}: ${text}${reactions}`;
}

/** "[👍 2* 🎉 1]": a star marks this user's own reaction; "[]" when none is left. */
export function formatReactions(reactions: Record<string, ReactionSummary>): string {
  return `[${Object.entries(reactions).map(([emoji, r]) => `${emoji} ${r.count}${r.me ? '*' : ''}`).join(' ')}]`;
}

/** "* lobby: bob was muted by alice for 10 min". */
export function formatModeration(e: ModerationEvent): string {
  const span = e.seconds === undefined ? '' : ` for ${formatSeconds(e.seconds)}`;
  const what = e.action === 'slowmode'
    ? (e.seconds ? `${e.by} set slow mode: one message per ${formatSeconds(e.seconds)}` : `${e.by} turned slow mode off`)
    : `${e.user ?? '?'} was ${PAST[e.action]} by ${e.by}${e.action === 'ban' || e.action === 'mute' ? span : ''}`;
  return `* ${e.room}: ${what}`;
}

const PAST: Record<Exclude<ModerationAction, 'slowmode'>, string> = { kick: 'kicked', ban: 'banned', unban: 'unbanned', mute: 'muted', unmute: 'unmuted' };

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
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

/** `number(m)` is the terminal's number of each message printed. */
export function formatJoined(j: RoomJoined, number: (m: ChatMessage) => number): string[] {
  const lines = j.history.map((m) => formatMessage(m, number(m)));
  if (j.resumed) {
    lines.unshift(`* resumed ${j.room}: ${j.history.length} missed message(s)${j.history.length > 0 ? ':' : ''}`);
  } else {
    lines.unshift(`* joined ${j.room}`);
    lines.push(j.count === undefined ? formatMembers(j.room, j.members) : `* ${j.room}: ${j.count} members (a large room: /members lists them)`);
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

export const USAGE_LINE = '* commands: /join ROOM, /leave [ROOM], /room ROOM, /rooms, /read, /dm USER TEXT, /who [ROOM], /members, /history [N], ' +
  '/edit N TEXT, /delete N, /react N EMOJI, /unreact N EMOJI, /kick /mute [S] /unmute /ban [S] /unban USER, /slowmode S, /quit (N: a message\'s #number or id end)';
