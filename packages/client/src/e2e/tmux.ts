/**
 * A program running in a real pseudo-terminal, through tmux on a private socket, for testing the
 * interactive terminal client as a person would use it: keys in, screen text out. The pane's
 * whole scrollback is kept, so a test can count how often a line appeared.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TMUX = ['/usr/bin/tmux', '/usr/local/bin/tmux', '/bin/tmux'].find((path) => existsSync(path));

/** Throws, naming the install command, when tmux is missing: these tests never skip. */
export function requireTmux(): void {
  if (TMUX === undefined) throw new Error('tmux is not installed: install it with `apt-get install tmux`');
}

export class TmuxSession {
  readonly #socket = `chat-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  readonly #dir = mkdtempSync(join(tmpdir(), 'chat-tmux-'));
  readonly #name = 'chat';
  #last = '';

  /** Starts `argv` in a 160x50 pane; the pane closes when the program exits. */
  constructor(argv: string[], cwd: string) {
    const config = join(this.#dir, 'tmux.conf');
    writeFileSync(config, 'set -g history-limit 20000\nset -g remain-on-exit off\n');
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const exitFile = join(this.#dir, 'exit-code');
    this.#tmux('-f', config, 'new-session', '-d', '-s', this.#name, '-x', '160', '-y', '50', '-c', cwd,
      `${quoted}; echo $? > '${exitFile}'`);
  }

  /** Types `text` and presses Enter. */
  type(text: string): void {
    this.keys(text);
    this.press('Enter');
  }

  /** Types `text` without pressing Enter: it stays on the program's input line. */
  keys(text: string): void {
    this.#tmux('send-keys', '-t', this.#name, '-l', text);
  }

  /** Presses one key by its tmux name: `Enter`, `C-u`, `BSpace`... */
  press(key: string): void {
    this.#tmux('send-keys', '-t', this.#name, key);
  }

  /** Everything the pane showed so far, scrollback included; after the program exits, its last screen. */
  screen(): string {
    try {
      this.#last = this.#tmux('capture-pane', '-p', '-J', '-S', '-', '-t', this.#name);
    } catch {
      // the session is gone: keep what it showed last
    }
    return this.#last;
  }

  /** Waits until the screen matches; fails with the screen in the message. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on the terminal:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Resolves with the program's exit code once its pane has closed. */
  async exited(timeoutMs = 5000): Promise<number> {
    const file = join(this.#dir, 'exit-code');
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(file) || readFileSync(file, 'utf8').trim() === '') {
      if (Date.now() > deadline) throw new Error(`the terminal program did not exit within ${timeoutMs} ms:\n${this.screen()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return Number(readFileSync(file, 'utf8').trim());
  }

  kill(): void {
    try {
      this.#tmux('kill-server');
    } catch {
      // already gone
    }
  }

  #tmux(...args: string[]): string {
    if (TMUX === undefined) throw new Error('tmux is not installed');
    return execFileSync(TMUX, ['-L', this.#socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
