import { createInterface, type Interface } from 'node:readline';
import { compareIds } from '@chat/protocol';
import type { ChatClient } from '../client.js';
import { formatDirect, formatJoined, formatMembers, formatMessage, formatPresence, formatRooms, formatStatus, USAGE_LINE } from './format.js';
import { RecentMessages } from './recent.js';
import { RoomCommands } from './room-commands.js';
import { printRoomLines } from './room-lines.js';
import { TypingNotices } from './typing-notices.js';
import { Unread } from './unread.js';

/**
 * The interactive terminal chat: a readline prompt for the current room, server events printed
 * above it without disturbing what is being typed. Resolves when the user quits or stdin ends.
 * In a terminal, the current room is told while the user types a message (readline's keypresses);
 * others' typing prints one line when they start. The current room is marked read as its messages
 * print; other rooms count unread messages, shown by /rooms. Each message prints with a #number
 * that /edit, /delete and /react take (recent.ts); room-commands.ts has those and moderation.
 */
export class Terminal {
  readonly #client: ChatClient;
  readonly #rl: Interface;
  readonly #input: NodeJS.ReadStream;
  readonly #output: NodeJS.WriteStream;
  readonly #unread: Unread;
  readonly #typing = new TypingNotices();
  readonly #recent = new RecentMessages();
  readonly #roomCommands: RoomCommands;
  /** Oldest message id shown per room, where /history continues from. */
  readonly #oldest = new Map<string, string>();
  #current: string | undefined;
  /** Once readline is closed, prompting again would resume stdin and keep the process alive. */
  #closed = false;
  #pending = new Set<Promise<unknown>>();

  constructor(client: ChatClient, input: NodeJS.ReadStream, output: NodeJS.WriteStream) {
    this.#client = client;
    this.#input = input;
    this.#output = output;
    this.#rl = createInterface({ input, output, terminal: input.isTTY === true && output.isTTY === true });
    this.#unread = new Unread(client, (promise) => this.#track(promise));
    this.#roomCommands = new RoomCommands({
      client, recent: this.#recent, current: () => this.#current, print: (line) => this.print(line), track: (promise) => this.#track(promise),
    });
    const lines = printRoomLines(client, this.#recent, (line) => this.print(line), (room) => this.#forget(room));
    client.on('status', (s) => { const line = formatStatus(s); if (line) this.print(line); });
    client.on('joined', (j) => {
      j.history.forEach((m) => this.#noteOldest(m.room, m.id));
      formatJoined(j, (m) => this.#recent.note(m)).forEach((l) => this.print(l));
      j.changes.forEach(lines.change);
      if (j.unread !== undefined) this.#unread.set(j.room, j.unread, j.room === this.#current);
    });
    client.on('message', (m) => {
      this.#noteOldest(m.room, m.id);
      this.#typing.onMessage(m.room, m.from);
      this.print(formatMessage(m, this.#recent.note(m)));
      this.#unread.onMessage(m.room, m.room === this.#current);
    });
    client.on('typing', (t) => { const line = this.#typing.onTyping(t); if (line) this.print(line); });
    client.on('read', (r) => this.#unread.set(r.room, r.unread, r.room === this.#current));
    client.on('direct', (m) => this.print(formatDirect(m, client.user)));
    client.on('presence', (p) => this.print(formatPresence(p)));
    client.on('error', (e) => this.print(`! ${e.code}: ${e.message}${e.room ? ` (room ${e.room})` : ''}`));
  }

  /**
   * Runs until /quit or end of input; joins `rooms` first, the first becoming the current room.
   * Then closes the client, which settles requests still waiting for a connection (a join while
   * the node is unreachable), so that /quit works while disconnected too.
   */
  async run(rooms: string[]): Promise<void> {
    this.#current = rooms[0];
    this.#updatePrompt();
    for (const room of rooms) this.#track(this.#client.join(room));
    this.print(USAGE_LINE);
    this.#rl.prompt();
    const done = new Promise<void>((resolve) => this.#rl.once('close', () => {
      this.#closed = true;
      resolve();
    }));
    this.#rl.on('SIGINT', () => this.#rl.close()); // readline swallows Ctrl-C otherwise
    // Registered after readline's own listener, so `rl.line` already holds the key just pressed.
    if (this.#rl.terminal) this.#input.on('keypress', () => this.#onKeypress());
    this.#rl.on('line', (line) => {
      if (this.#current !== undefined) this.#client.stopTyping(this.#current);
      const quit = this.#command(line.trim());
      if (quit) this.#rl.close();
      else if (!this.#closed) this.#rl.prompt();
    });
    await done;
    // A waiting read mark goes out first (only while connected: it is written at once or not at all).
    this.#unread.flush();
    this.#client.close();
    await Promise.allSettled([...this.#pending]);
  }

  /** Prints a line above the prompt, keeping whatever the user has typed so far. */
  print(line: string): void {
    if (this.#output.isTTY && !this.#closed) {
      this.#output.write('\r\x1b[K');
      this.#output.write(`${line}\n`);
      this.#rl.prompt(true);
    } else {
      this.#output.write(`${line}\n`);
    }
  }

  /** Handles one input line; true to quit. */
  #command(line: string): boolean {
    if (line === '') return false;
    if (!line.startsWith('/')) {
      if (this.#current === undefined) this.print('! no current room: /join one first');
      else this.#track(this.#client.send(this.#current, line));
      return false;
    }
    const [name = '', ...rest] = line.slice(1).split(/\s+/);
    if (this.#roomCommands.handle(name, rest, line)) return false;
    const arg = rest[0];
    switch (name) {
      case 'join':
        if (arg === undefined) return this.#usage('/join ROOM');
        this.#current = arg;
        this.#updatePrompt();
        this.#track(this.#client.join(arg));
        return false;
      case 'leave': {
        const room = arg ?? this.#current;
        if (room === undefined) return this.#usage('/leave [ROOM]');
        this.#track(this.#client.leave(room).then(() => this.print(`* left ${room}`)));
        this.#forget(room);
        return false;
      }
      case 'room':
        if (arg === undefined || !this.#client.rooms().includes(arg)) return this.#usage('/room ROOM (one of your rooms)');
        this.#current = arg;
        this.#updatePrompt();
        this.#unread.mark(arg);
        return false;
      case 'rooms':
        this.print(formatRooms(this.#client.rooms(), this.#current, (room) => this.#unread.count(room)));
        return false;
      case 'read':
        if (this.#current === undefined) return this.#usage('/read in a room');
        this.#unread.mark(this.#current);
        this.print(`* ${this.#current} marked read`);
        return false;
      case 'dm':
        if (arg === undefined || rest.length < 2) return this.#usage('/dm USER TEXT');
        this.#track(this.#client.direct(arg, rest.slice(1).join(' ')).then((sent) => this.print(`* dm to ${arg} delivered (${sent.id})`)));
        return false;
      case 'who': {
        const room = arg ?? this.#current;
        if (room === undefined) return this.#usage('/who [ROOM]');
        this.print(formatMembers(room, this.#client.members(room)));
        return false;
      }
      case 'history':
        this.#history(arg === undefined ? 20 : Number(arg));
        return false;
      case 'help':
        this.print(USAGE_LINE);
        return false;
      case 'quit':
      case 'exit':
        return true;
      default:
        return this.#usage(`unknown command /${name}; try /help`);
    }
  }

  #history(limit: number): void {
    const room = this.#current;
    if (room === undefined || !Number.isInteger(limit) || limit < 1) return void this.#usage('/history [N] in a room');
    const before = this.#oldest.get(room);
    const page = before === undefined ? { limit } : { before, limit };
    this.#track(this.#client.history(room, page).then((messages) => {
      if (messages.length === 0) return this.print(`* ${room}: nothing older`);
      const first = messages[0];
      if (first !== undefined) this.#oldest.set(room, first.id);
      this.print(`* ${room}: ${messages.length} older message(s)`);
      messages.forEach((m) => this.print(formatMessage(m, this.#recent.note(m))));
    }));
  }

  /** Typing a message tells the current room; a command, or an emptied line, stops it. */
  #onKeypress(): void {
    const room = this.#current;
    if (room === undefined || this.#closed) return;
    const line = this.#rl.line;
    if (line.trim() === '' || line.startsWith('/')) this.#client.stopTyping(room);
    else this.#client.typing(room);
  }

  /** The room was left (by /leave, or a moderator's kick or ban): the next of the rooms becomes current. */
  #forget(room: string): void {
    this.#oldest.delete(room);
    this.#unread.forget(room);
    this.#typing.forget(room);
    if (room === this.#current) this.#current = this.#client.rooms().find((r) => r !== room);
    this.#updatePrompt();
  }

  #noteOldest(room: string, id: string): void {
    const oldest = this.#oldest.get(room);
    if (oldest === undefined || compareIds(id, oldest) < 0) this.#oldest.set(room, id);
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.print(`! ${error instanceof Error ? error.message : String(error)}`));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #usage(text: string): false {
    this.print(`! usage: ${text}`);
    return false;
  }

  #updatePrompt(): void {
    this.#rl.setPrompt(`${this.#current ?? '(no room)'}> `);
  }
}
