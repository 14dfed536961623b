import type { Logger } from '@chat/runtime';

/** What the access log reads of a uWS response; the transport passes its HttpResponse. */
export interface LoggedResponse {
  writeStatus(status: string): unknown;
  end(body?: unknown, closeConnection?: boolean): unknown;
  onAborted(handler: () => void): unknown;
  getRemoteAddressAsText(): ArrayBuffer;
}

/** What the access log reads of a uWS request, before the handler runs (uWS frees it when the handler returns). */
export interface LoggedRequest {
  getMethod(): string;
  /** The path: uWS keeps the query string (a WebSocket `?token=`, an API `?before=`) apart, and it is never logged. */
  getUrl(): string;
  getHeader(name: string): string;
}

type Handler = (res: LoggedResponse, req: LoggedRequest) => unknown;
/** The route registrations of a uWS app, each `(pattern, handler)`. */
export type RouteTable = Record<(typeof METHODS)[number], (pattern: string, handler: Handler) => unknown>;

const METHODS = ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'any'] as const;

/**
 * One info line per HTTP request to a route under `prefixes` (the operators' /api and /admin):
 * method, path, status, duration, remote address (and X-Forwarded-For when a proxy set it) and
 * response bytes, written when the response ends or the client aborts. No other header (the API
 * key is in Authorization), no query string, no body. The app's route methods are wrapped, so a route added later under these prefixes is
 * logged without any change here.
 */
export function logRequestsUnder(app: RouteTable, prefixes: readonly string[], log: Logger): void {
  const logged = (pattern: string) => prefixes.some((prefix) => pattern === prefix || pattern.startsWith(`${prefix}/`));
  for (const method of METHODS) {
    const register = app[method].bind(app);
    app[method] = (pattern, handler) => register(pattern, logged(pattern) ? withAccessLog(handler, log) : handler);
  }
}

function withAccessLog(handler: Handler, log: Logger): Handler {
  return (res, req) => {
    const started = performance.now();
    const method = req.getMethod().toUpperCase();
    const path = req.getUrl();
    const remote = Buffer.from(res.getRemoteAddressAsText()).toString();
    const forwardedFor = req.getHeader('x-forwarded-for');
    let status = 200;
    let written = false;
    const write = (fields: { status: number; bytes: number; aborted?: true }) => {
      if (written) return;
      written = true;
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      log.info('http request', { method, path, ...fields, durationMs, remote, ...(forwardedFor === '' ? {} : { forwardedFor }) });
    };
    // Shadowed on this response object only: uWS's response objects take own properties.
    const { writeStatus, end, onAborted } = res;
    res.writeStatus = function (this: LoggedResponse, line: string) {
      status = Number.parseInt(line, 10);
      return writeStatus.call(this, line);
    };
    res.end = function (this: LoggedResponse, body?: unknown, closeConnection?: boolean) {
      write({ status, bytes: byteLength(body) });
      return end.call(this, body, closeConnection);
    };
    res.onAborted = function (this: LoggedResponse, aborted: () => void) {
      return onAborted.call(this, () => {
        write({ status: 0, bytes: 0, aborted: true });
        aborted();
      });
    };
    return handler(res, req);
  };
}

function byteLength(body: unknown): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}
