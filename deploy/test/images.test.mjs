// The Dockerfiles and .dockerignore, read as text: no engine here to build them, so these tests
// check what a build would depend on (base image, copied paths, workspaces, the final stage's user,
// signal, port and command).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import { GATEWAY_NODE_FLAGS } from '@chat/testkit';
import { readRepoFile, repoPath } from './lib/tools.mjs';

const rootPackage = JSON.parse(readRepoFile('package.json'));
const compose = parse(readRepoFile('docker-compose.yml'));

/** Instructions of a Dockerfile as { op, args, stage }, continuation lines joined. */
function instructions(path) {
  const lines = readRepoFile(path).split('\n');
  const result = [];
  let stage = -1;
  let pending = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    pending += line.endsWith('\\') ? line.slice(0, -1) + ' ' : line;
    if (line.endsWith('\\')) continue;
    const [op, ...rest] = pending.split(/\s+/);
    if (op.toUpperCase() === 'FROM') stage++;
    result.push({ op: op.toUpperCase(), args: rest.join(' '), stage });
    pending = '';
  }
  return result;
}

const images = [
  { service: 'gateway', dockerfile: 'deploy/docker/gateway.Dockerfile', port: '8080', script: 'gateway' },
  { service: 'bridge', dockerfile: 'deploy/docker/bridge.Dockerfile', port: '9464', script: 'bridge' },
];

for (const image of images) {
  const steps = instructions(image.dockerfile);
  const finalStage = Math.max(...steps.map((step) => step.stage));
  const final = steps.filter((step) => step.stage === finalStage);

  test(`${image.dockerfile} builds on node:20-bookworm-slim in every stage`, () => {
    const bases = steps.filter((step) => step.op === 'FROM').map((step) => step.args.split(/\s+/)[0]);
    assert.ok(bases.length >= 2, 'multi-stage: a build stage and a runtime stage');
    for (const base of bases) assert.equal(base, 'node:20-bookworm-slim', 'uWebSockets.js needs glibc');
  });

  test(`${image.dockerfile} installs every workspace before copying sources, and only production dependencies at run time`, () => {
    for (const stage of [0, finalStage]) {
      const stageSteps = steps.filter((step) => step.stage === stage);
      const firstInstall = stageSteps.findIndex((step) => step.op === 'RUN' && /\bnpm ci\b/.test(step.args));
      assert.ok(firstInstall > 0, `stage ${stage} runs npm ci`);
      const copiedBefore = stageSteps.slice(0, firstInstall).filter((step) => step.op === 'COPY').map((step) => step.args);
      for (const workspace of rootPackage.workspaces) {
        assert.ok(copiedBefore.some((args) => args.startsWith(`${workspace}/package.json `)), `stage ${stage} copies ${workspace}/package.json before npm ci`);
      }
      assert.ok(copiedBefore.some((args) => args.includes('package-lock.json')), 'npm ci needs the lockfile');
    }
    assert.ok(steps.some((step) => step.stage === 0 && step.op === 'RUN' && /npx tsc -b/.test(step.args)));
    assert.ok(final.some((step) => step.op === 'RUN' && /npm ci --omit=dev/.test(step.args)));
  });

  test(`${image.dockerfile} runs as a non-root user, stops on SIGTERM and starts like npm run ${image.script}`, () => {
    const last = (op) => final.filter((step) => step.op === op).at(-1)?.args;
    assert.ok(last('USER') && !['root', '0'].includes(last('USER')), 'USER is not root');
    assert.equal(last('STOPSIGNAL'), 'SIGTERM');
    assert.equal(last('EXPOSE'), image.port);
    assert.equal(compose.services[image.service].environment.PORT, image.port, 'compose runs it on the exposed port');
    const command = JSON.parse(last('CMD')).join(' ');
    assert.ok(rootPackage.scripts[image.script].endsWith(command), `CMD "${command}" is what npm run ${image.script} runs`);
  });

  test(`${image.dockerfile} copies only paths that exist and that .dockerignore keeps`, () => {
    const ignored = dockerignorePatterns();
    for (const step of steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))) {
      const sources = step.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(repoPath(source)), `COPY ${source}: not in the repository`);
        assert.ok(!ignored.some((pattern) => pattern.test(source)), `COPY ${source}: excluded by .dockerignore`);
      }
    }
  });
}

test('every launcher starts the gateway with the Node flags it ships with', () => {
  const launches = [
    ['package.json', readRepoFile('package.json')],
    ['deploy/docker/gateway.Dockerfile', readRepoFile('deploy/docker/gateway.Dockerfile').replace(/", "/g, ' ')],
    ['loadtest/smoke-ci.sh', readRepoFile('loadtest/smoke-ci.sh')],
  ].flatMap(([file, text]) => [...text.matchAll(/\bnode((?: --?[\w-]+(?:=\S+)?)*) services\/gateway\/dist\/main\.js/g)].map((m) => [file, m[1].trim()]));
  assert.ok(launches.length >= 4, `found ${launches.length} launches`);
  for (const [file, flags] of launches) assert.equal(flags, GATEWAY_NODE_FLAGS.join(' '), `${file} starts the gateway with "${flags}"`);
});

test('.dockerignore keeps installed modules, build output and git history out of the build context', () => {
  const ignored = dockerignorePatterns();
  for (const path of ['node_modules', 'services/gateway/node_modules', 'packages/protocol/dist', '.git', 'services/gateway/dist/.tsbuildinfo']) {
    assert.ok(ignored.some((pattern) => pattern.test(path)), `${path} is ignored`);
  }
});

/** .dockerignore lines as regular expressions over context-relative paths (no `!` lines used). */
function dockerignorePatterns() {
  return readRepoFile('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((pattern) => {
      assert.ok(!pattern.startsWith('!'), 'this check does not model exceptions; extend it if you add one');
      const body = pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replaceAll('**/', '\0')
        .replaceAll('*', '[^/]*')
        .replaceAll('\0', '(?:.*/)?');
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}
