/**
 * Why a WebSocket could not be opened, in plain words, from the `error` event the runtime fired
 * before the close. Node's `ws` puts the cause on `event.error`: a system error (refused, DNS, TLS)
 * or "Unexpected server response: 401" for an upgrade the server answered with an HTTP status. A
 * browser's event says nothing (on purpose): then this is undefined and the close stays 1006.
 */
export function describeConnectFailure(event: unknown): string | undefined {
  const error = (event as { error?: unknown } | null)?.error;
  if (!(error instanceof Error)) return undefined;
  const { code, address, port, hostname } = error as Error & { code?: string; address?: string; port?: number; hostname?: string };
  const status = /Unexpected server response: (\d{3})/.exec(error.message)?.[1];
  if (status !== undefined) return HTTP_REFUSALS[status] ?? `refused by the server (HTTP ${status})`;
  switch (code) {
    case 'ECONNREFUSED': return `connection refused (${address ?? '?'}:${port ?? '?'})`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return `DNS lookup failed for ${hostname ?? 'the host'}`;
    case 'ETIMEDOUT': return `connection timed out (${address ?? '?'}:${port ?? '?'})`;
    case 'ECONNRESET': return 'connection reset during the handshake';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH': return `host unreachable (${address ?? '?'})`;
    default:
      if (code !== undefined && TLS_CODE.test(code)) return tlsFailure(error.message);
      return error.message;
  }
}

/** What a gateway means by each status it can answer an upgrade with (docs/protocol.md#commands). */
const HTTP_REFUSALS: Record<string, string> = {
  '400': 'refused: bad request (400)',
  '401': 'unauthorized (401): the token is missing, invalid or expired',
  '403': 'forbidden (403): this origin is not allowed',
  '404': 'not found (404): is the path /ws?',
  '503': 'node not ready or draining (503)',
};

/** OpenSSL's reason, without its error-stack noise; the commonest one explained. */
function tlsFailure(message: string): string {
  const reason = /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message.split('\n')[0];
  if (reason === 'wrong version number') return 'TLS error: the server does not speak TLS on this port (wss:// to a ws:// server?)';
  return `TLS error: ${reason}`;
}

/** Node's TLS failures: OpenSSL's certificate codes and its protocol errors (e.g. wss:// to a plain port). */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|EPROTO$|HOSTNAME_MISMATCH$)/;
