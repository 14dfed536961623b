/**
 * What the bridge core needs from the outside besides the cluster's Bus (its one way into rooms):
 * the shared state, lease and room tap come from the cluster, one implementation per backend
 * (Cluster.bridgeStores, Cluster.openTap); the broker side is the MqttLink. A test may pass fakes.
 */
export type { CursorStore, DeviceRoomStore, Lease, RoomTap } from '@chat/cluster';

export interface Publisher {
  /** Connected to the broker and subscribed. */
  readonly connected: boolean;
  /**
   * QoS 1; resolves on the broker's acknowledgement. Rejects with LinkLostError when the connection
   * ended first (the message is then never resent by the link itself).
   */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
}
