// The connection pill in the top bar. Its `data-state` (connecting, connected, resumed, gap,
// reconnecting, closed) and `data-node` attributes are what the end-to-end tests read.

const CLOSE_REASONS = {
  1001: 'the node is shutting down', 1006: 'connection lost', 1011: 'server error', 4008: 'too slow to keep up',
  4401: 'sign-in expired', 4403: 'disconnected by an operator', 4429: 'too many messages',
};

export class ConnectionIndicator {
  constructor(root, text) {
    this.root = root;
    this.text = text;
    /** The countdown to the next attempt, or the fade from "resumed" to "connected". */
    this.timer = undefined;
  }

  status(s) {
    clearTimeout(this.timer);
    if (s.state === 'connected') return this.#set('connected', `Connected to node ${s.node}`, s.node);
    if (s.state === 'closed') return this.#set('closed', s.code === undefined ? 'Signed out' : capitalise(describeClose(s.code, s.reason)));
    const verb = s.state === 'connecting' ? 'Connecting' : 'Reconnecting';
    if (s.retryInMs === undefined) return this.#set(s.state, `${verb} to ${host(s.url)}…`);
    const why = describeClose(s.code, s.reason);
    const due = Date.now() + s.retryInMs;
    const tick = () => this.#set(s.state, `${capitalise(why)}. ${verb} in ${Math.max(0, (due - Date.now()) / 1000).toFixed(1)} s…`);
    tick();
    if (s.retryInMs > 0) this.timer = setInterval(tick, 100);
  }

  /** After a rejoin: says so, and whether some messages could not be replayed. */
  resumed(node, gap) {
    clearTimeout(this.timer);
    if (!gap && this.root.dataset.state === 'gap' && this.root.dataset.node === node) return; // another room's gap stands
    if (gap) return this.#set('gap', `Resumed on node ${node}, with a gap: some messages were lost`, node);
    this.#set('resumed', `Resumed on node ${node}, nothing lost`, node);
    // The good news fades to the plain state after a while; a gap stays until the next change.
    this.timer = setTimeout(() => {
      if (this.root.dataset.state === 'resumed') this.#set('connected', `Connected to node ${node}`, node);
    }, 8000);
  }

  #set(state, text, node) {
    this.root.dataset.state = state;
    if (node === undefined) delete this.root.dataset.node;
    else this.root.dataset.node = node;
    this.text.textContent = text;
  }
}

/** Why a connection ended, in words. */
export function describeClose(code, reason) {
  return CLOSE_REASONS[code] ?? (reason || `code ${code}`);
}

function host(url) {
  try {
    return new URL(url).host;
  } catch {
    return 'the server';
  }
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
