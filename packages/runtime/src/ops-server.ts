import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { MetricsEndpoint } from './metrics.js';

/**
 * /healthz, /readyz and /metrics on node:http, for services that have no uWS app of their own
 * (the MQTT bridge). The gateway answers the same routes on its uWS port.
 */
export async function serveOps(port: number, host: string, ready: () => boolean, metrics: MetricsEndpoint): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
    } else if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else if (path === '/metrics') {
      metrics.render().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}
