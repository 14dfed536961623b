/**
 * The SDK as a user gets it, for package.test.ts: `npm pack` of packages/client, and an empty
 * project where only that tarball was installed, with the consumer files of e2e-consumer/ copied in.
 * Every command runs as a real child process; a failure names the command and shows its output.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@chat/testkit';

export interface Output {
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; rejects with its exit status and output when it fails or outlives timeoutMs. */
export function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ stdout, stderr });
        return;
      }
      const status = error.killed ? `killed after ${timeoutMs} ms` : `exit ${String(error.code)}`;
      reject(new Error(`\`${command} ${args.join(' ')}\` in ${cwd} failed (${status})\n${stdout}\n${stderr}`));
    });
  });
}

/**
 * Throws a message that says what is wrong when npm cannot reach its registry: installing the
 * tarball fetches `ws` from there, as it would for any user.
 */
export async function requireRegistry(): Promise<void> {
  try {
    await run('npm', ['ping'], repoRoot, 30_000);
  } catch (error) {
    const registry = (await run('npm', ['config', 'get', 'registry'], repoRoot).catch(() => undefined))?.stdout.trim();
    throw new Error(`npm cannot reach the registry ${registry ?? ''}: installing the SDK's tarball needs it ` +
      `(for ws). Check the network or npm's registry setting.\n${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Packs packages/client into `dir` (its prepack builds first) and returns the tarball's path. */
export async function packClient(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await run('npm', ['pack', '-w', 'packages/client', '--pack-destination', dir, '--silent'], repoRoot);
  const tarballs = readdirSync(dir).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) throw new Error(`expected one tarball in ${dir}, found ${tarballs.join(', ') || 'none'}`);
  return join(dir, tarballs[0] as string);
}

/** The paths inside the tarball, without the leading `package/`. */
export async function tarballFiles(tarball: string): Promise<string[]> {
  const { stdout } = await run('tar', ['-tzf', tarball], repoRoot);
  return stdout.split('\n').filter((line) => line !== '').map((line) => line.replace(/^package\//, '')).sort();
}

/** Unpacks the tarball into `dir` (as `dir/package/...`). */
export async function unpack(tarball: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir], repoRoot);
  return join(dir, 'package');
}

/** An empty ES module project in `dir` with the tarball installed by `npm install` and nothing else. */
export async function installedProject(dir: string, tarball: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'sdk-consumer', private: true, type: 'module' }, null, 2)}\n`);
  await run('npm', ['install', tarball, '--no-audit', '--no-fund'], dir);
  cpSync(join(repoRoot, 'packages/client/e2e-consumer'), dir, { recursive: true });
  return dir;
}
