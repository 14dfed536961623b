import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The gateway serves dist/ to browsers as plain ES modules under an import map that knows only
 * @chat/protocol and @chat/client (docs/protocol.md#http), so nothing reachable from index.js may import
 * a Node built-in or any other package.
 */
test('everything the browser loads from the SDK imports only relative files and @chat/protocol', () => {
  const here = dirname(fileURLToPath(import.meta.url));
  const protocolEntry = createRequire(import.meta.url).resolve('@chat/protocol');
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else if (specifier === '@chat/protocol') visit(protocolEntry);
      else bare.add(specifier);
    }
  };
  visit(resolve(here, 'index.js'));
  assert.deepEqual([...bare], []);
  assert.ok(seen.size > 10, `walked ${seen.size} modules`);
  assert.ok(![...seen].some((f) => f.endsWith('node.js') || f.includes('/testing/')), 'no Node-only module is reachable');
});
