import { createRequire } from 'node:module';
import uWS from 'uWebSockets.js';
import type { HttpResponse, TemplatedApp, WebSocket, us_listen_socket, us_socket_context_t } from 'uWebSockets.js';
import { CloseCode, ErrorCode, SUBPROTOCOL } from '@chat/protocol';
import type { GatewayMetrics, Logger, MetricsEndpoint } from '@chat/runtime';
import type { GatewayConfig } from './config.js';
import type { Connection } from './connection.js';
import type { Gateway } from './gateway.js';
import { backpressureCeiling } from './slow-consumers.js';
import { logRequestsUnder, type RouteTable } from './access-log.js';
import { failure, routeApi, type ApiHead, type ApiResponse } from './http-api.js';
import type { Identity, Session } from './session.js';
import type { StaticFile } from './static-files.js';
import type { TokenVerifier } from './token-verifier.js';
import { authorizeUpgrade, type UpgradeVerdict } from './upgrade-auth.js';

interface SocketData {
  id: string;
  identity: Identity;
  /** The client's address, read at the upgrade for the debug log only ('' at other levels). */
  remote: string;
  session: Session | undefined;
  closed: boolean;
}

/** What the upgrade needs of the request once the verdict is in (uWS's `req` is gone by then). */
interface UpgradeHead {
  key: string;
  offered: string;
  extensions: string;
  context: us_socket_context_t;
  /** The peer's address, for the debug log only ('' at other levels). */
  remote: string;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 202: 'Accepted', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
  405: 'Method Not Allowed', 413: 'Payload Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** uWS's LIBUS_LISTEN_EXCLUSIVE_PORT listen option. */
const LISTEN_EXCLUSIVE_PORT = 1;

/** The operators' routes: each request under these is written to the access log. */
const ACCESS_LOGGED = ['/api', '/admin'] as const;

/**
 * The package silently falls back to a slow JavaScript server when its native binding does not
 * load. Refuse that: the binding for this platform and Node ABI must be the module we got.
 */
export function assertNativeUws(): void {
  const require = createRequire(import.meta.url);
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  let native: unknown;
  try {
    native = require(binary);
  } catch (error) {
    throw new Error(`uWebSockets.js has no native binding for ${process.platform}/${process.arch} Node ABI ${process.versions.modules} (use Node 20 on glibc): ${(error as Error).message}`);
  }
  if (native !== uWS) throw new Error('uWebSockets.js loaded its JavaScript fallback instead of the native binding (is UWS_USE_FALLBACK set?)');
}

/** The only file that talks to uWebSockets.js: HTTP routes, the /ws upgrade and socket events. */
export class UwsTransport {
  private readonly app: TemplatedApp;
  private listenSocket: us_listen_socket | undefined;
  private nextId = 0;

  constructor(
    private readonly gw: Gateway,
    private readonly config: GatewayConfig,
    /** Undefined when auth is off. */
    private readonly verifier: TokenVerifier | undefined,
    private readonly metrics: GatewayMetrics & MetricsEndpoint,
    private readonly files: Map<string, StaticFile>,
    private readonly log: Logger,
  ) {
    this.app = uWS.App();
    logRequestsUnder(this.app as unknown as RouteTable, ACCESS_LOGGED, this.log);
    this.gw.attach({ publish: (topic, json) => this.publish(topic, json) });
    this.routes();
  }

  /**
   * Listens with the port to itself: uWS shares a port with another process by default
   * (SO_REUSEPORT), so a second gateway started on a taken port would split the clients silently.
   */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      // uWS takes (host, port, options, cb), though its typings list options only without a host.
      const listen = this.app.listen.bind(this.app) as unknown as (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => void;
      listen(this.config.host, this.config.port, LISTEN_EXCLUSIVE_PORT, (socket) => {
        if (socket === false) {
          reject(new Error(`cannot listen on ${this.config.host}:${this.config.port}: the port is taken (or not ours to bind); set PORT to a free one`));
          return;
        }
        this.listenSocket = socket;
        resolve(uWS.us_socket_local_port(socket));
      });
    });
  }

  stopListening(): void {
    if (this.listenSocket !== undefined) uWS.us_listen_socket_close(this.listenSocket);
    this.listenSocket = undefined;
  }

  private publish(topic: string, json: string): number {
    const subscribers = this.app.numSubscribers(topic);
    if (subscribers > 0) this.app.publish(topic, json);
    return subscribers;
  }

  private routes(): void {
    const heartbeatSec = Math.ceil((2 * this.config.heartbeatMs) / 1000);
    this.app.ws<SocketData>('/ws', {
      compression: uWS.DISABLED,
      // uWS drops an over-limit frame by cutting the TCP connection (the client sees 1006), but the
      // contract promises close code 1009. So uWS gets a higher ceiling, bounded to keep memory per
      // socket small, and frames between MAX_PAYLOAD and that ceiling are closed with 1009 below.
      maxPayloadLength: payloadCeiling(this.config.maxPayloadBytes),
      // uWS wants its idle timeout in whole seconds, a multiple of 4: silence longer than this closes.
      idleTimeout: Math.max(8, Math.ceil(heartbeatSec / 4) * 4),
      sendPingsAutomatically: true,
      // uWS skips a subscriber over maxBackpressure and keeps it open: a hole in its stream. So uWS
      // gets a ceiling above MAX_BACKPRESSURE, the core closes a socket over MAX_BACKPRESSURE with
      // 4008 (slow-consumers.ts), and a socket that reaches the ceiling first is closed by uWS at its
      // first refused frame (the client sees 1006 after a gap-free prefix).
      maxBackpressure: backpressureCeiling(this.config.maxBackpressureBytes),
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => {
        if (!this.gw.ready) {
          this.refuseNotReady(res);
          return;
        }
        // `req` lives only until this callback returns, and uWS needs onAborted before any await:
        // read everything first, then decide (a JWKS fetch may take a while), then answer corked.
        const head: UpgradeHead = {
          key: req.getHeader('sec-websocket-key'),
          offered: req.getHeader('sec-websocket-protocol'),
          extensions: req.getHeader('sec-websocket-extensions'),
          context,
          remote: this.log.debugEnabled ? Buffer.from(res.getRemoteAddressAsText()).toString() : '',
        };
        const request = {
          origin: req.getHeader('origin'),
          authorization: req.getHeader('authorization'),
          queryUser: req.getQuery('user'),
          queryToken: req.getQuery('token'),
        };
        const aborted = watchAbort(res);
        // Not forgotten: authorizeUpgrade never rejects, and a throw while answering is logged here
        // (the response is marked answered first, so nothing writes to it twice).
        authorizeUpgrade(this.config, this.verifier, request)
          .then((verdict) => {
            if (aborted.done) return;
            aborted.done = true;
            res.cork(() => this.answerUpgrade(res, head, verdict));
          })
          .catch((error: unknown) => this.log.error('upgrade failed', { error }));
      },
      open: (ws) => {
        const data = ws.getUserData();
        data.session = this.gw.open(this.connection(ws, data), data.identity, data.remote);
      },
      message: (ws, message, isBinary) => {
        const session = ws.getUserData().session;
        if (session === undefined) return;
        if (message.byteLength > this.config.maxPayloadBytes) {
          session.close(CloseCode.TooLarge, 'too_large', `frame over ${this.config.maxPayloadBytes} bytes`);
          return;
        }
        if (isBinary) {
          this.gw.reply(session, { type: 'error', code: ErrorCode.BadRequest, message: 'frames must be UTF-8 JSON text' }, undefined);
          return;
        }
        // uWS neuters `message` when this callback returns: decoding happens synchronously inside receive.
        this.gw.receive(session, Buffer.from(message).toString('utf8'));
      },
      close: (ws, code) => {
        const data = ws.getUserData();
        data.closed = true;
        if (data.session === undefined) return;
        this.gw.closed(data.session, code);
      },
    });

    this.app.get('/healthz', (res) => void res.writeHeader('content-type', 'text/plain').end('ok\n'));
    this.app.get('/readyz', (res) => {
      const ready = this.gw.ready;
      res.writeStatus(ready ? '200 OK' : '503 Service Unavailable').writeHeader('content-type', 'text/plain').end(ready ? 'ready\n' : 'not ready\n');
    });
    this.app.get('/metrics', (res) => {
      const aborted = watchAbort(res);
      this.metrics.render().then(
        (text) => aborted.done || res.cork(() => void res.writeHeader('content-type', this.metrics.contentType).end(text)),
        () => aborted.done || res.cork(() => void res.writeStatus('500 Internal Server Error').end()),
      );
    });
    this.app.any('/api/*', (res, req) => this.api(res, {
      method: req.getMethod(), path: req.getUrl(), query: req.getQuery() ?? '', authorization: req.getHeader('authorization'), idempotencyKey: req.getHeader('idempotency-key'),
    }));
    this.app.get('/*', (res, req) => {
      const file = this.files.get(req.getUrl());
      if (file === undefined) {
        res.writeStatus('404 Not Found').end('not found\n');
        return;
      }
      res.writeHeader('content-type', file.type).writeHeader('cache-control', 'no-cache').end(file.body);
    });
    this.app.any('/*', (res) => void res.writeStatus('405 Method Not Allowed').end());
  }

  /** Answers from the request's head when it can (the API key is checked before any body is read), else reads the body (bounded by MAX_PAYLOAD) first. */
  private api(res: HttpResponse, head: ApiHead): void {
    const aborted = watchAbort(res);
    const answer = (reply: ApiResponse) => {
      if (aborted.done) return;
      aborted.done = true;
      res.cork(() => {
        res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`).writeHeader('content-type', 'application/json').end(JSON.stringify(reply.body));
      });
    };
    const failed = (error: unknown) => {
      this.log.error('api request failed', { path: head.path, error });
      answer(failure(500, 'internal', 'internal error'));
    };
    const step = routeApi(this.gw, head);
    if ('answer' in step) {
      step.answer.then(answer, failed);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      if (aborted.done) return;
      size += chunk.byteLength;
      if (size > this.config.maxPayloadBytes) {
        answer(failure(413, ErrorCode.TooLarge, `body is larger than ${this.config.maxPayloadBytes} bytes`));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) step.withBody(Buffer.concat(chunks).toString('utf8')).then(answer, failed);
    });
  }

  /**
   * Not ready (draining, or the bus not reachable yet): a client accepted now could not join
   * anything, so it is sent to another node, as a load balancer's readiness check would.
   */
  private refuseNotReady(res: HttpResponse): void {
    res.writeStatus('503 Service Unavailable').end(this.gw.accepting ? 'node not ready; try another node' : 'node draining; connect to another node');
  }

  /** Runs corked, after the verdict: the node may have started draining while the token was checked. */
  private answerUpgrade(res: HttpResponse, head: UpgradeHead, verdict: UpgradeVerdict): void {
    if (!verdict.ok) {
      res.writeStatus(`${verdict.status} ${STATUS_TEXT[verdict.status]}`).writeHeader('content-type', 'text/plain').end(verdict.message);
      return;
    }
    if (!this.gw.ready) {
      this.refuseNotReady(res);
      return;
    }
    const protocol = head.offered.split(',').some((p) => p.trim() === SUBPROTOCOL) ? SUBPROTOCOL : '';
    const data: SocketData = {
      id: `${this.config.nodeId}.${(++this.nextId).toString(36)}`, identity: verdict.identity, remote: head.remote, session: undefined, closed: false,
    };
    res.upgrade(data, head.key, protocol, head.extensions, head.context);
  }

  private connection(ws: WebSocket<SocketData>, data: SocketData): Connection {
    return new UwsConnection(ws, data, this.metrics);
  }
}

/**
 * One socket behind the core's Connection port. A class, not an object of closures: there is one
 * of these per open connection, and prototype methods cost nothing per instance.
 */
class UwsConnection implements Connection {
  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly data: SocketData,
    private readonly metrics: GatewayMetrics,
  ) {}

  get id(): string {
    return this.data.id;
  }

  send(json: string): boolean {
    if (this.data.closed) return false;
    // 2: refused at the ceiling; with closeOnBackpressureLimit uWS is closing the socket.
    if (this.ws.send(json, false) === 2) return false;
    this.metrics.delivered(1);
    return true;
  }

  subscribe(topic: string): void {
    if (!this.data.closed) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.data.closed) this.ws.unsubscribe(topic);
  }

  bufferedBytes(): number {
    return this.data.closed ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (!this.data.closed) this.ws.end(code, reason);
  }
}

/** The largest frame uWS reads at all: 16x MAX_PAYLOAD, at least 1 MiB, at most 16 MiB. */
function payloadCeiling(maxPayloadBytes: number): number {
  return Math.min(16 * 1024 * 1024, Math.max(1024 * 1024, maxPayloadBytes * 16));
}

/** uWS requires an abort handler on every response answered later; `done` stops writes after abort. */
function watchAbort(res: HttpResponse): { done: boolean } {
  const state = { done: false };
  res.onAborted(() => {
    state.done = true;
  });
  return state;
}
