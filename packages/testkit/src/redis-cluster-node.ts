/**
 * One node of a cluster started by startRedisCluster: its process, and a connection that talks to
 * it alone. A handle stays valid after its process died (alive turns false; commands reject).
 */
import type { Service } from './processes.js';
import { NodeConnection, type RespValue } from './redis-cluster-command.js';

export interface RedisClusterNode extends Service {
  readonly id: string;
  readonly port: number;
  /** `127.0.0.1:port`, as a seed or as CLUSTER NODES prints it. */
  readonly address: string;
  /** false once the process has exited (killed or stopped); it is never restarted here. */
  readonly alive: boolean;
  /** The node's role now, asked of the node itself (ROLE). */
  role(): Promise<'master' | 'replica'>;
  /** One command to this node only; redirections (-MOVED, -ASK) come back as RespError. */
  command(...args: (string | number)[]): Promise<RespValue>;
}

/** The handle startRedisCluster builds around a started redis-server. */
export class ClusterNodeHandle implements RedisClusterNode {
  id = '';
  readonly address: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private running = true;
  private readonly connection: NodeConnection;

  constructor(private readonly service: Service, readonly port: number) {
    this.address = `127.0.0.1:${port}`;
    this.pid = service.pid;
    this.connection = new NodeConnection(port);
    this.exited = service.exited.then((code) => {
      this.running = false;
      this.connection.close();
      return code;
    });
  }

  get alive(): boolean { return this.running; }
  output(): string { return this.service.output(); }
  follow(onLine: (line: string) => void): void { this.service.follow(onLine); }
  exitSignal(): NodeJS.Signals | null { return this.service.exitSignal(); }
  command(...args: (string | number)[]): Promise<RespValue> { return this.connection.command(...args); }
  async role(): Promise<'master' | 'replica'> {
    const reply = await this.command('ROLE');
    return Array.isArray(reply) && reply[0] === 'master' ? 'master' : 'replica';
  }
  async stop(signal?: NodeJS.Signals): Promise<number | null> {
    const code = await this.service.stop(signal);
    await this.exited;
    return code;
  }
  async kill(): Promise<void> {
    await this.service.kill();
    await this.exited;
  }
}
