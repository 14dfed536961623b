/**
 * Debian's Chromium driven by playwright-core for the end-to-end tests, launched headless with the
 * flags a sandbox-less CI container needs, and screenshots saved in a temporary directory (never in
 * the repository) whose path is printed once. CHROMIUM_PATH overrides the binary. A machine without
 * Chromium fails these tests with the install command.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Throws, naming the install command, when there is no Chromium: these tests never skip. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH)`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}

let screenshotDir: string | undefined;

/** Saves a full-page screenshot as <name>.png in this run's screenshot directory and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  if (screenshotDir === undefined) {
    screenshotDir = mkdtempSync(join(tmpdir(), 'chat-screenshots-'));
    console.log(`screenshots: ${screenshotDir}`);
  }
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Collects uncaught errors and console errors of a page, so a test can assert there were none.
 * Chromium's own log line for a WebSocket that could not connect is expected while a node is down.
 */
export function watchErrors(page: Page, label: string): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`${label}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/^WebSocket connection to .* failed/.test(message.text())) {
      errors.push(`${label} console: ${message.text()}`);
    }
  });
  return errors;
}
