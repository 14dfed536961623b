import { parseArgs } from 'node:util';

export interface CliArgs {
  urls: string[];
  user: string | undefined;
  token: string | undefined;
  rooms: string[];
  /** Pipe mode: send each stdin line to the first room, then exit once all are acknowledged. */
  send: boolean;
  timeoutMs: number;
  help: boolean;
}

export const USAGE = `usage: chat [ws://host:port/ws ...] [--user NAME | --token JWT] [--room ROOM ...] [--send]

  Several URLs (or one comma-separated list) are nodes to fail over between.
  --user, -u NAME   identity when the gateway runs without auth (default: a guest name)
  --token JWT       identity when it runs with AUTH_JWT_SECRET (or set CHAT_TOKEN)
  --room, -r ROOM   room to join; repeat for more (default: lobby)
  --send            pipe mode: post each line of stdin to the first room, print the ids, exit
  --timeout MS      pipe mode: give up after this long (default 30000)

Interactive commands: /join ROOM  /leave [ROOM]  /room ROOM  /rooms (with unread counts)  /read
  /dm USER TEXT  /who [ROOM]  /members [ROOM] (a page; again for the next)  /history [N]  /help  /quit
  (anything else is posted to the current room)
  Each message prints with a #number; N below is that number (3 or #3) or the end of the message's id:
  /edit N TEXT  /delete N  /react N EMOJI  /unreact N EMOJI   (your messages; any, as a moderator)
  Moderators: /kick USER  /ban [SECONDS] USER [REASON]  /unban USER  /mute [SECONDS] USER  /unmute USER
  /slowmode SECONDS (0: off)
  The current room is marked read as its messages print, and told while you type a message.`;

/** Parses argv (without node and the script); throws an Error whose message is fit for the user. */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined> = {}): CliArgs {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string', short: 'u' },
      token: { type: 'string' },
      room: { type: 'string', short: 'r', multiple: true },
      send: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '30000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const urls = positionals.flatMap((p) => p.split(',')).map((u) => u.trim()).filter((u) => u !== '');
  for (const url of urls) {
    if (!/^wss?:\/\//.test(url)) throw new Error(`not a WebSocket URL: ${url} (expected ws://host:port/ws)`);
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error(`--timeout must be a positive number of ms, got ${values.timeout}`);
  return {
    urls: urls.length > 0 ? urls : ['ws://localhost:8080/ws'],
    user: values.user,
    token: values.token ?? env.CHAT_TOKEN,
    rooms: values.room ?? ['lobby'],
    send: values.send,
    timeoutMs,
    help: values.help,
  };
}
