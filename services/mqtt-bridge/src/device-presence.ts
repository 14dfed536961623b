import type { Bus, PresenceStore } from '@chat/cluster';
import type { Logger } from '@chat/runtime';
import type { DeviceStatus } from './device-payload.js';
import type { DeviceRoomStore } from './ports.js';

/**
 * The presence node every bridge replica writes device entries under: a device is one member
 * whichever replica saw it, and any replica may refresh or remove its entries.
 */
export const DEVICE_PRESENCE_NODE = 'mqtt';

/** Pairs recorded or joined by this process, remembered to skip repeated Redis writes; bounded. */
const MEMO_MAX = 100_000;

export interface DevicePresenceDeps {
  bus: Bus;
  presence: PresenceStore;
  rooms: DeviceRoomStore;
  presenceTtlMs: number;
  log: Logger;
}

/**
 * Devices as room members (docs/protocol.md#mqtt): a device whose `chat/devices/{device}/status` is
 * `online` shows in the presence of every room it posted to; `offline` (or its Will) makes it
 * leave them. Every replica follows all statuses, so every one knows who is online and a new
 * leader starts with the full picture. The leader does the rest: joins a device to a room when it
 * stores the device's post there, joins and leaves on status changes, heartbeats the shared device
 * node so the entries stay alive, and lists online devices in the directory so `direct` to them
 * reaches it.
 */
export class DevicePresence {
  private readonly online = new Set<string>();
  private readonly offline = new Set<string>();
  private readonly recorded = new Set<string>();
  /** device -> rooms it was joined to by this replica; at most MEMO_MAX pairs in all. */
  private readonly joined = new Map<string, Set<string>>();
  private joinedPairs = 0;
  /**
   * Devices that went offline recently, until when their leave is re-applied: another replica may
   * still join a device for a post it handled just before the status changed. Leaving is idempotent.
   */
  private readonly departedUntil = new Map<string, number>();
  private leading = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DevicePresenceDeps) {}

  /**
   * Idempotent: a retained status delivered again changes nothing, and costs nothing (each replica
   * follows statuses on a fresh session, so every reconnection brings all of them again). A new
   * leader applies the statuses it knows in lead().
   */
  async onStatus(device: string, status: DeviceStatus): Promise<void> {
    const known = status === 'online' ? this.online : this.offline;
    if (known.has(device)) return;
    try {
      if (status === 'online') {
        this.online.add(device);
        this.offline.delete(device);
        if (this.leading) await this.arrive(device);
      } else {
        this.online.delete(device);
        this.offline.add(device);
        this.joinedPairs -= this.joined.get(device)?.size ?? 0;
        this.joined.delete(device);
        if (this.leading) await this.depart(device);
      }
    } catch (error) {
      known.delete(device); // not applied: the redelivery must not be taken for a repeat
      throw error;
    }
  }

  /** A device posted in `room`: remember the room, and show the device there if it is online. */
  async posted(device: string, room: string): Promise<void> {
    const pair = `${device}\n${room}`;
    if (!this.recorded.has(pair)) {
      await this.deps.rooms.addDeviceRoom(device, room);
      remember(this.recorded, pair);
    }
    if (this.online.has(device) && !this.joined.get(device)?.has(room)) {
      await this.deps.presence.join(room, device, DEVICE_PRESENCE_NODE);
      this.rememberJoined(device, room);
    }
  }

  private rememberJoined(device: string, room: string): void {
    if (this.joinedPairs >= MEMO_MAX) {
      this.joined.clear();
      this.joinedPairs = 0;
    }
    let rooms = this.joined.get(device);
    if (rooms === undefined) this.joined.set(device, (rooms = new Set()));
    rooms.add(room);
    this.joinedPairs++;
  }

  /** Becomes the replica that keeps device presence: brings Redis in line with the statuses seen. */
  async lead(): Promise<void> {
    this.leading = true;
    const rooms = await this.deps.rooms.deviceRooms([...this.online, ...this.offline]);
    for (const device of this.online) await this.arrive(device, rooms.get(device));
    for (const device of this.offline) await this.depart(device, rooms.get(device));
    const every = Math.max(500, Math.floor(this.deps.presenceTtlMs / 3));
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) => this.deps.log.warn('device presence refresh failed', { error }));
    }, every);
  }

  async follow(): Promise<void> {
    this.leading = false;
    clearInterval(this.timer);
    for (const device of this.online) await this.deps.bus.unsubscribeUser(device).catch(() => undefined);
  }

  /** `known`: the device's rooms when the caller already read them. */
  private async arrive(device: string, known?: string[]): Promise<void> {
    const rooms = known ?? (await this.roomsOf(device));
    for (const room of rooms) await this.deps.presence.join(room, device, DEVICE_PRESENCE_NODE);
    await this.deps.bus.subscribeUser(device);
  }

  private async depart(device: string, known?: string[]): Promise<void> {
    await this.deps.bus.unsubscribeUser(device).catch(() => undefined);
    const rooms = known ?? (await this.roomsOf(device));
    for (const room of rooms) await this.deps.presence.leave(room, device, DEVICE_PRESENCE_NODE);
    this.departedUntil.set(device, Date.now() + this.deps.presenceTtlMs * 3);
  }

  /**
   * Keeps every online device's presence alive with one heartbeat of the shared device node, and
   * reaps nodes gone silent. Without a leader for a TTL, device presence is reaped; the next leader's
   * lead() announces the online devices again.
   */
  private async refresh(): Promise<void> {
    if (!this.leading) return;
    await this.deps.presence.heartbeat(DEVICE_PRESENCE_NODE);
    await this.deps.presence.reap();
    const now = Date.now();
    for (const [device, until] of this.departedUntil) {
      if (until < now || this.online.has(device)) this.departedUntil.delete(device);
    }
    if (this.departedUntil.size === 0) return;
    const rooms = await this.deps.rooms.deviceRooms([...this.departedUntil.keys()]);
    for (const [device, deviceRooms] of rooms) {
      for (const room of deviceRooms) await this.deps.presence.leave(room, device, DEVICE_PRESENCE_NODE);
    }
  }

  private async roomsOf(device: string): Promise<string[]> {
    return (await this.deps.rooms.deviceRooms([device])).get(device) ?? [];
  }
}

function remember(set: Set<string>, value: string): void {
  if (set.size >= MEMO_MAX) set.clear();
  set.add(value);
}
