// The gateway's HTTP API (docs/protocol.md#http) as the operator's page calls it. Every call carries
// `Authorization: Bearer <key>` when there is a key; the key never goes into a URL.

/** A refused or failed call: `status` 0 when the gateway could not be reached at all. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export class OperatorApi {
  /** `key` '' when the gateway runs without API_KEY (then the API is open). */
  constructor(key) {
    this.key = key;
  }

  nodes() {
    return this.#call('GET', '/api/nodes').then((r) => r.nodes);
  }

  /** `{ rooms: [{ room, members }], more }`. */
  rooms(limit) {
    return this.#call('GET', `/api/rooms?limit=${limit}`);
  }

  members(room) {
    return this.#call('GET', `/api/rooms/${encodeURIComponent(room)}/members`).then((r) => r.members);
  }

  /** The newest `limit` messages of the room, oldest first. */
  messages(room, limit) {
    return this.#call('GET', `/api/rooms/${encodeURIComponent(room)}/messages?limit=${limit}`).then((r) => r.messages);
  }

  /** Resolves with the stored message's id. */
  publish(room, text, from) {
    return this.#call('POST', `/api/rooms/${encodeURIComponent(room)}/messages`, from ? { text, from } : { text }).then((r) => r.id);
  }

  /** Resolves with `{ connections }`: how many connections the nodes closed. */
  disconnect(user) {
    return this.#call('POST', `/api/users/${encodeURIComponent(user)}/disconnect`, {});
  }

  async #call(method, path, body) {
    const headers = {};
    if (this.key !== '') headers.authorization = `Bearer ${this.key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'network', 'the gateway cannot be reached');
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data.error?.code ?? 'http_error', data.error?.message ?? response.statusText);
    return data;
  }
}

/** An error in plain words for the page, with its HTTP status. */
export function describeError(error) {
  if (!(error instanceof ApiError)) return `Error: ${error.message}`;
  if (error.status === 0) return 'The gateway cannot be reached. Retrying…';
  if (error.status === 401) return '401 Unauthorized: the API key is wrong or missing. Enter the API_KEY the gateways were started with.';
  if (error.status === 503) return `503 Service Unavailable: ${error.message}. Retrying…`;
  return `${error.status} ${error.code}: ${error.message}`;
}
