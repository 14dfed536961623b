/**
 * What the bridge core needs from the outside, as small ports besides the cluster's Bus (its one
 * way into rooms). main.ts passes the Redis implementations from @chat/cluster (RedisBridgeState,
 * RedisLease, RedisRoomTap) and the MqttLink; a test may pass fakes.
 */
import type { RoomTapListener } from '@chat/cluster';

/** Where the outbound leader keeps how far each room has been acknowledged by the broker. */
export interface CursorStore {
  /** Fixes the point from which messages are forwarded, the first time any replica starts. */
  ensureOrigin(): Promise<string>;
  loadCursors(): Promise<{ origin: string; cursors: Map<string, string> }>;
  /** Fenced by the leader's token: false when the token no longer holds the lease. */
  saveCursors(token: string, cursors: Map<string, string>): Promise<boolean>;
}

/** The rooms each device posted to: it shows in their presence while online. */
export interface DeviceRoomStore {
  addDeviceRoom(device: string, room: string): Promise<void>;
  deviceRooms(devices: readonly string[]): Promise<Map<string, string[]>>;
}

export interface Lease {
  readonly ttlMs: number;
  acquire(holder: string): Promise<string | undefined>;
  renew(token: string): Promise<boolean>;
  release(token: string): Promise<void>;
}

/** Every room's messages, for the outbound leader. */
export interface RoomTap {
  start(listener: RoomTapListener): Promise<void>;
  stop(): Promise<void>;
  rooms(): Promise<string[]>;
}

export interface Publisher {
  /** Connected to the broker and subscribed. */
  readonly connected: boolean;
  /**
   * QoS 1; resolves on the broker's acknowledgement. Rejects with LinkLostError when the connection
   * ended first (the message is then never resent by the link itself).
   */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
}
