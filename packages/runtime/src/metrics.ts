/** What the gateway core records. The names behind it are binding (docs/protocol.md#metrics). */
export interface GatewayMetrics {
  connectionOpened(): void;
  connectionClosed(reason: CloseReason): void;
  frameReceived(type: string): void;
  delivered(frames: number): void;
  rooms(count: number): void;
  deliveryLatency(seconds: number): void;
  busPublish(seconds: number): void;
  error(code: string): void;
  /** Frames not written to a connection because it was being closed as a slow consumer; never one that stays open. */
  backpressureDropped(frames: number): void;
  busConnected(up: boolean): void;
  /** A send or direct answered as a duplicate of an earlier `mid` (chat_duplicates_total). */
  duplicate(): void;
  /** A `typing` frame relayed to the room, a stop included (chat_typing_total); throttled ones are not counted. */
  typing(): void;
  /** A read marker moved forward (chat_read_markers_total). */
  readMarker(): void;
  /**
   * A change to a message stored: chat_edits_total, chat_deletes_total or chat_reactions_total
   * (reactions added and removed). Refused, unchanged and duplicate ones are not counted.
   */
  changed(kind: 'edit' | 'delete' | 'reaction'): void;
  /** A moderation action taken, from a client or the admin API (chat_moderation_total{action}). */
  moderation(action: string): void;
}

/** Why a connection closed: the `reason` label of chat_connections_closed_total. */
export const CLOSE_REASONS = [
  'client', 'dropped', 'draining', 'token_expired', 'rate_limited', 'too_large', 'heartbeat', 'error', 'slow_consumer', 'disconnected',
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];

/** What the MQTT bridge records. */
export interface BridgeMetrics {
  crossed(direction: 'to_mqtt' | 'to_chat'): void;
  dropped(reason: string): void;
  mqttConnected(up: boolean): void;
  busConnected(up: boolean): void;
}

/** Renders the Prometheus text exposition of a service's registry. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}
