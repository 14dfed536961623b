/**
 * Real gateways on a real Redis for the SDK's integration and end-to-end tests, built on
 * @chat/testkit. Every process is stopped by stop(), and by testkit's exit hook if a test dies.
 * Extend it by adding options here rather than starting processes in the tests.
 */
import { createHmac } from 'node:crypto';
import { startGateway, startRedis, type GatewayService, type RedisServer } from '@chat/testkit';

export interface RealCluster {
  redis: RedisServer;
  gateways: GatewayService[];
  /** Starts one more gateway on this Redis (on `port` to bring a node back at its old address). */
  add(name: string, port?: number): Promise<GatewayService>;
  stop(): Promise<void>;
}

/**
 * `names.length` gateways on one fresh Redis, node ids as given. RATE_LIMIT is raised so that tests
 * may send as fast as they like; `env` adds to or overrides the gateways' environment.
 */
export async function startCluster(names: string[], env: Record<string, string> = {}): Promise<RealCluster> {
  const redis = await startRedis();
  const gateways: GatewayService[] = [];
  const add = async (name: string, port?: number): Promise<GatewayService> => {
    const gateway = await startGateway({
      redisUrl: redis.url,
      env: { NODE_ID: name, RATE_LIMIT: '1000', DRAIN_SECONDS: '1', ...env },
      ...(port === undefined ? {} : { port }),
    });
    gateways.push(gateway);
    return gateway;
  };
  try {
    for (const name of names) await add(name);
  } catch (error) {
    await Promise.all(gateways.map((g) => g.kill()));
    await redis.kill();
    throw error;
  }
  return {
    redis, gateways, add,
    async stop() {
      await Promise.all(gateways.map((g) => g.kill()));
      await redis.kill();
    },
  };
}

/**
 * An HS256 JWT signed here with node:crypto, for gateways started with AUTH_JWT_SECRET=secret (at
 * least 32 bytes); `claims` adds to sub, iat and exp (e.g. `mod`, the rooms the user moderates).
 */
export function signToken(sub: string, ttlSec: number, secret: string, claims: Record<string, unknown> = {}): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, sub, iat: now, exp: now + ttlSec })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}
