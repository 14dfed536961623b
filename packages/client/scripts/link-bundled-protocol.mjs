// prepack: puts @chat/protocol where `npm pack` looks for a bundled dependency.
//
// @chat/client ships @chat/protocol inside its tarball (bundleDependencies), so that one tarball
// installs with no other step and the protocol is never published on its own. npm bundles only what
// sits in the package's own node_modules, but in a workspace the protocol is linked from the root's
// node_modules instead, and the tarball would silently lack it (https://github.com/npm/cli/issues/3466).
// A link from packages/client/node_modules/@chat/protocol to the protocol's workspace fixes that: npm
// then packs the protocol's own published files (its `files` list) under node_modules/@chat/protocol.
// The link resolves to the same directory as the root's, so leaving it in place changes nothing else.
import { existsSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const clientDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const protocolDir = join(clientDir, '..', 'protocol');
const link = join(clientDir, 'node_modules', '@chat', 'protocol');
const target = relative(dirname(link), protocolDir);

for (const built of [join(clientDir, 'dist', 'index.js'), join(protocolDir, 'dist', 'index.js')]) {
  if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` at the repository root first`);
}

const present = lstatSync(link, { throwIfNoEntry: false });
if (present === undefined || !present.isSymbolicLink() || readlinkSync(link) !== target) {
  rmSync(link, { recursive: true, force: true });
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'dir');
}

