/**
 * The SDK as a user installs it (docs/protocol.md#commands): `npm pack` of packages/client gives one tarball;
 * installed with `npm install` into an empty project and nothing else, it runs in Node against real
 * gateways (one on the in-process bus, two on a real Redis), type-checks in a consumer's TypeScript,
 * and, bundled by esbuild for the browser, talks from Chromium to a Node client through a gateway.
 * Needs the npm registry (the install fetches `ws`) and Chromium; fails naming either when absent.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build, type BuildFailure } from 'esbuild';
import type { Browser } from 'playwright-core';
import { repoRoot, startGateway, type GatewayService } from '@chat/testkit';
import type { ChatClient } from '../client.js';
import type { Sent } from '../delivery.js';
import { createNodeClient } from '../node.js';
import { startCluster, type RealCluster } from '../testing/real-cluster.js';
import { launchChromium, requireChromium, watchErrors } from './browser.js';
import { installedProject, packClient, requireRegistry, run, tarballFiles, unpack } from './packed.js';

describe('the packed SDK', () => {
  const work = mkdtempSync(join(tmpdir(), 'chat-sdk-pack-'));
  let tarball: string;
  let files: string[];
  let project: string;
  let solo: GatewayService;
  let cluster: RealCluster;
  let browser: Browser | undefined;
  const clients: ChatClient[] = [];

  before(async () => {
    requireChromium();
    await requireRegistry();
    tarball = await packClient(join(work, 'pack'));
    files = await tarballFiles(tarball);
    project = await installedProject(join(work, 'project'), tarball);
    solo = await startGateway({ env: { NODE_ID: 'solo' } });
    cluster = await startCluster(['pkg1', 'pkg2']);
  });
  after(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await solo?.kill();
    await cluster?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the tarball holds the built SDK, its declarations, the protocol, README, LICENSE and CHANGELOG', () => {
    for (const file of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts',
      'dist/node.js', 'dist/node.d.ts', 'dist/cli.js', 'node_modules/@chat/protocol/package.json',
      'node_modules/@chat/protocol/dist/index.js', 'node_modules/@chat/protocol/dist/index.d.ts']) {
      assert.ok(files.includes(file), `${file} is in the tarball`);
    }
  });

  test('the tarball holds no tests, no test helpers and no build state', () => {
    const unwanted = files.filter((file) => /\.test\.|(^|\/)(testing|e2e|e2e-consumer|scripts)\/|tsbuildinfo|tsconfig/.test(file));
    assert.deepEqual(unwanted, []);
  });

  test('the LICENSE in the tarball is the repository\'s', async () => {
    const unpacked = await unpack(tarball, join(work, 'unpacked'));
    const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8');
    assert.equal(readFileSync(join(unpacked, 'LICENSE'), 'utf8'), license);
    assert.equal(readFileSync(join(unpacked, 'node_modules/@chat/protocol/LICENSE'), 'utf8'), license);
  });

  test('every source map in the tarball points at sources that are in the tarball', async () => {
    const unpacked = await unpack(tarball, join(work, 'maps'));
    const maps = files.filter((file) => file.endsWith('.map'));
    assert.ok(maps.length > 20, `${maps.length} maps`);
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(unpacked, map), 'utf8')) as { sources: string[] };
      return sources.map((source) => resolve(dirname(join(unpacked, map)), source)).filter((path) => !existsSync(path));
    });
    assert.deepEqual(missing, []);
  });

  test('the chat bin runs from the installed package', async () => {
    const { stdout } = await run('npx', ['--no-install', 'chat', '--help'], project);
    assert.match(stdout, /^usage: chat /);
  });

  test('a Node script imports the installed package by name and talks through a gateway on the in-process bus', async () => {
    const { stdout } = await run('node', ['exchange.mjs', solo.wsUrl, solo.wsUrl, 'pkg-solo'], project, 30_000);
    const result = JSON.parse(stdout) as ExchangeResult;
    assert.deepEqual(result.nodes, ['solo', 'solo']);
    assert.deepEqual([result.message.room, result.message.from, result.message.text], ['pkg-solo', 'alice', 'hello from the tarball']);
    assert.equal(result.message.id, result.sent.id);
    assert.equal(result.sent.duplicate, false);
  });

  test('a Node script of the installed package talks across two gateways on Redis, one client on each', async () => {
    const [one, two] = cluster.gateways as [GatewayService, GatewayService];
    const { stdout } = await run('node', ['exchange.mjs', one.wsUrl, two.wsUrl, 'pkg-cross'], project, 30_000);
    const result = JSON.parse(stdout) as ExchangeResult;
    assert.deepEqual(result.nodes, ['pkg1', 'pkg2']);
    assert.equal(result.message.text, 'hello from the tarball');
    assert.equal(result.message.id, result.sent.id);
  });

  test('the TypeScript examples of the installed README type-check against the installed declarations', async () => {
    const readme = readFileSync(join(project, 'node_modules/@chat/client/README.md'), 'utf8');
    const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    assert.ok(examples.length >= 2, `${examples.length} examples`);
    examples.forEach((code, i) => writeFileSync(join(project, `readme-${i + 1}.ts`), code));
    await run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.bundler.json'], project);
  });

  for (const resolution of ['node16', 'bundler']) {
    test(`a consumer's TypeScript type-checks against the installed declarations (moduleResolution ${resolution})`, async () => {
      await run(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', `tsconfig.${resolution}.json`], project);
    });
  }

  test('bundled for the browser, the package pulls in neither ws nor a Node module, and refuses its Node entry', async () => {
    const bundle = await bundleForBrowser(project, 'browser-entry.mjs');
    const inputs = Object.keys(bundle.metafile.inputs);
    assert.ok(inputs.includes('node_modules/@chat/client/dist/client.js'), inputs.join('\n'));
    assert.ok(inputs.some((input) => input.startsWith('node_modules/@chat/client/node_modules/@chat/protocol/dist/')), inputs.join('\n'));
    assert.deepEqual(inputs.filter((input) => /(^|\/)node_modules\/ws\/|^node:|(^|\/)dist\/node\.js$/.test(input)), []);

    writeFileSync(join(project, 'node-in-browser.mjs'), "import { createNodeClient } from '@chat/client/node';\ncreateNodeClient;\n");
    await assert.rejects(bundleForBrowser(project, 'node-in-browser.mjs'),
      (error: BuildFailure) => error.errors.some((e) => e.notes.some((note) =>
        note.text.includes('"./node" cannot be imported from package "@chat/client" because it was explicitly disabled'))));
  });

  test('the browser bundle in Chromium exchanges messages with a Node client across two gateways', async () => {
    const [one, two] = cluster.gateways as [GatewayService, GatewayService];
    const bundle = await bundleForBrowser(project, 'browser-entry.mjs');
    const dave = createNodeClient({ url: two.wsUrl, user: 'dave' });
    clients.push(dave);
    let answered: Promise<Sent> | undefined;
    dave.on('message', (message) => {
      if (message.from === 'carol') answered = dave.send(message.room, `dave heard: ${message.text}`);
    });
    await dave.connect();
    await dave.join('pkg-browser');

    browser = await launchChromium();
    const page = await browser.newPage();
    const errors = watchErrors(page, 'carol');
    await page.setContent('<!doctype html><title>packed SDK</title>');
    await page.addScriptTag({ type: 'module', content: bundle.code });
    await page.waitForFunction(() => 'talkToDave' in globalThis);
    const result = await page.evaluate(({ url, room }) => (globalThis as unknown as BrowserApp).talkToDave(url, room),
      { url: one.wsUrl, room: 'pkg-browser' });
    assert.equal(result.node, 'pkg1');
    assert.equal(result.sent.duplicate, false);
    assert.equal(result.answer.text, 'dave heard: hello from chromium');
    assert.equal((await answered)?.id, result.answer.id);
    assert.deepEqual(errors, []);
  });
});

interface ExchangeResult {
  nodes: string[];
  sent: { id: string; duplicate: boolean; mid: string };
  message: { room: string; id: string; from: string; text: string };
}

interface BrowserApp {
  talkToDave(url: string, room: string): Promise<{ node: string; sent: { id: string; duplicate: boolean }; answer: { id: string; text: string } }>;
}

/** esbuild as a browser application's bundler would run it, from the consumer project. */
async function bundleForBrowser(project: string, entry: string): Promise<{ code: string; metafile: { inputs: Record<string, unknown> } }> {
  const result = await build({
    absWorkingDir: project, entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser',
    target: 'es2022', write: false, metafile: true, logLevel: 'silent',
  });
  return { code: result.outputFiles[0]?.text ?? '', metafile: result.metafile };
}
