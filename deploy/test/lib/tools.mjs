// Where the deploy tests find the repository and the validators they run. A missing tool is a
// failure that says how to install it, never a skip: CI must not pass on checks it did not make.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const toolsDir = process.env.CHAT_TOOLS_DIR ?? join(homedir(), '.cache', 'chat-tools');

const installHint = 'run `bash deploy/test/install-tools.sh` (it builds or installs every tool these tests use)';

/** Absolute path of a repository file. */
export function repoPath(...parts) {
  return join(repoRoot, ...parts);
}

export function readRepoFile(...parts) {
  return readFileSync(repoPath(...parts), 'utf8');
}

/** A tool that install-tools.sh builds into the cache directory. */
export function cachedTool(name) {
  const path = join(toolsDir, 'bin', name);
  if (!existsSync(path)) throw new Error(`${name} is not installed in ${toolsDir}/bin: ${installHint}`);
  return path;
}

/** A tool expected on PATH (from Debian packages). */
export function systemTool(name, debianPackage) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const path = join(dir, name);
    if (dir && existsSync(path)) return path;
  }
  throw new Error(`${name} is not on PATH: apt-get install ${debianPackage}, or ${installHint}`);
}

/** The folder of Kubernetes JSON schemas unpacked by install-tools.sh, e.g. .../v1.31.0-local-strict. */
export function kubernetesSchemaDir() {
  const versionFile = join(toolsDir, 'kubernetes-schema-version');
  if (!existsSync(versionFile)) throw new Error(`Kubernetes schemas are not installed: ${installHint}`);
  const version = readFileSync(versionFile, 'utf8').trim();
  return { version, dir: join(toolsDir, 'kubernetes-json-schema', `${version}-local-strict`) };
}

const execFileAsync = promisify(execFile);

/** Runs a command to completion; resolves with its output whatever the exit code. */
export async function run(command, args, { input, cwd = repoRoot, timeoutMs = 60_000 } = {}) {
  if (input !== undefined) {
    const result = spawnSync(command, args, { cwd, input, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: result.status ?? -1, stdout: result.stdout ?? '', stderr: result.stderr ?? String(result.error ?? '') };
  }
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, timeout: timeoutMs, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return { code: typeof error.code === 'number' ? error.code : -1, stdout: error.stdout ?? '', stderr: error.stderr ?? String(error) };
  }
}
