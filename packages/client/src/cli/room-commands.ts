import type { ChatClient } from '../client.js';
import type { RecentMessages } from './recent.js';

/** What the room commands need of the terminal. */
export interface RoomCommandContext {
  client: ChatClient;
  recent: RecentMessages;
  current(): string | undefined;
  print(line: string): void;
  /** Runs a request, printing its failure (`! forbidden: ...`). */
  track(promise: Promise<unknown>): void;
}

/** One usage line per command, printed when its arguments do not fit. */
const USAGE: Record<string, string> = {
  edit: '/edit N TEXT (N: a message\'s #number, or the end of its id)',
  delete: '/delete N',
  react: '/react N EMOJI',
  unreact: '/unreact N EMOJI',
  kick: '/kick USER', unban: '/unban USER', unmute: '/unmute USER',
  ban: '/ban [SECONDS] USER [REASON]',
  mute: '/mute [SECONDS] USER',
  slowmode: '/slowmode SECONDS (0: off)',
  members: '/members [ROOM] (again for the next page)',
};

/**
 * The terminal's commands on messages (/edit, /delete, /react, /unreact), moderation (/kick, /ban,
 * /unban, /mute, /unmute, /slowmode) and the paged member list of large rooms (/members), all in
 * the current room. handle() returns false for a command it does not know. A moderation command
 * prints nothing itself: the room's `moderation` event says what was done, a refusal prints as `!`.
 */
export class RoomCommands {
  /** Where the next /members continues, per room: the `next` of the page printed last. */
  readonly #memberPages = new Map<string, string>();

  constructor(private readonly t: RoomCommandContext) {}

  handle(name: string, args: string[], line: string): boolean {
    if (!(name in USAGE)) return false;
    const room = this.t.current();
    if (room === undefined) return this.#usage(`${USAGE[name]}, in a room: /join one first`);
    switch (name) {
      case 'edit': {
        if (args.length < 2) return this.#usage(USAGE.edit);
        const m = this.#message(room, args[0]);
        // The text as typed after the reference, inner spaces kept.
        if (m !== undefined) this.t.track(this.t.client.edit(room, m.id, line.replace(/^\/edit\s+\S+\s+/, '')));
        return true;
      }
      case 'delete': {
        if (args.length !== 1) return this.#usage(USAGE.delete);
        const m = this.#message(room, args[0]);
        if (m !== undefined) this.t.track(this.t.client.remove(room, m.id));
        return true;
      }
      case 'react':
      case 'unreact': {
        const [reference, emoji] = args;
        if (args.length !== 2 || emoji === undefined) return this.#usage(USAGE[name]);
        const m = this.#message(room, reference);
        if (m === undefined) return true;
        this.t.track(this.t.client.react(room, m.id, emoji, name === 'react').then((sent) => {
          if (sent.unchanged === true) this.t.print(`* your reaction ${emoji} to #${this.t.recent.note(m)} was already ${name === 'react' ? 'there' : 'gone'}`);
        }));
        return true;
      }
      case 'kick': case 'unban': case 'unmute': {
        const [user] = args;
        if (args.length !== 1 || user === undefined) return this.#usage(USAGE[name]);
        this.t.track(this.t.client[name](room, user));
        return true;
      }
      case 'ban': case 'mute': {
        const timed = /^\d+$/.test(args[0] ?? '');
        const seconds = timed ? Number(args[0]) : undefined;
        const user = args[timed ? 1 : 0];
        if (user === undefined) return this.#usage(USAGE[name]);
        const reason = args.slice(timed ? 2 : 1).join(' ');
        if (name === 'mute' && reason !== '') return this.#usage(USAGE.mute);
        const options = { ...(seconds === undefined ? {} : { seconds }), ...(reason === '' ? {} : { reason }) };
        this.t.track(name === 'ban' ? this.t.client.ban(room, user, options) : this.t.client.mute(room, user, options));
        return true;
      }
      case 'slowmode': {
        if (args.length !== 1 || !/^\d+$/.test(args[0] ?? '')) return this.#usage(USAGE.slowmode);
        this.t.track(this.t.client.slowMode(room, Number(args[0])));
        return true;
      }
      default:
        return this.#members(args[0] ?? room);
    }
  }

  /** Prints a page of the room's members; the next /members prints the following one. */
  #members(room: string): true {
    const after = this.#memberPages.get(room);
    this.t.track(this.t.client.memberPage(room, after === undefined ? {} : { after }).then((page) => {
      const count = this.t.client.memberCount(room);
      const more = page.next === undefined ? '' : ' … (/members for more)';
      this.t.print(`* ${room}${count === undefined ? '' : ` (${count} members)`}: ${page.members.join(', ')}${more}`);
      if (page.next === undefined) this.#memberPages.delete(room);
      else this.#memberPages.set(room, page.next);
    }));
    return true;
  }

  #message(room: string, reference: string | undefined) {
    const m = reference === undefined ? undefined : this.t.recent.find(room, reference);
    if (m === undefined) this.t.print(`! no message ${reference ?? ''} in ${room}: use the #number printed before a message, or the end of its id`);
    return m;
  }

  #usage(text: string | undefined): true {
    this.t.print(`! usage: ${text ?? ''}`);
    return true;
  }
}
