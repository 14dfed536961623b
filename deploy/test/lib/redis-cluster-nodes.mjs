// Redis Cluster nodes as the deployment files describe them, run on loopback before anything has
// joined them: the tests then run the deployment's own join script against them. Each node gets
// its own port, cluster-bus port and folder; every other flag is the file's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from '@chat/testkit';
import { run, systemTool } from './tools.mjs';

/**
 * @param {string[][]} argLists redis-server arguments (without the program), one list per node;
 *   `--port` is replaced and `/data` paths are moved to a temporary folder.
 * @returns {Promise<{ ports: number[], stop(): Promise<void> }>} once every node answers PING
 */
export async function startLoopbackClusterNodes(argLists) {
  const redisServer = systemTool('redis-server', 'redis-server');
  systemTool('redis-cli', 'redis-tools');
  const dirs = [];
  const processes = [];
  const ports = [];
  const stop = async () => {
    await Promise.all(processes.map((p) => p.kill()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const original of argLists) {
      const port = await freePort();
      const busPort = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-node-'));
      dirs.push(dir);
      ports.push(port);
      const args = original.map((a) => a.replace(/^\/data/, dir));
      const portAt = args.indexOf('--port');
      if (portAt === -1) args.push('--port', String(port));
      else args[portAt + 1] = String(port);
      processes.push(startProcess(redisServer, [...args, '--bind', '127.0.0.1', '--protected-mode', 'no', '--cluster-port', String(busPort)]));
    }
    const up = await run('bash', ['-c', `for p in ${ports.join(' ')}; do for i in $(seq 1 100); do redis-cli -p $p ping 2>/dev/null | grep -q PONG && continue 2; sleep 0.1; done; exit 1; done`]);
    if (up.code !== 0) throw new Error(`a Redis node did not answer:\n${processes.map((p) => p.output()).join('\n')}`);
    return { ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
