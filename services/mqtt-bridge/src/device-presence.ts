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
 * Devices as room members (SPEC section 5): a device whose `chat/devices/{device}/status` is
 * `online` shows in the presence of every room it posted to; `offline` (or its Will) makes it
 * leave them. Every replica follows all statuses (a plain, not shared, subscription), so every one
 * knows who is online. The replica that posts for a device joins it to that room at once; the
 * outbound leader does the rest: joins and leaves on status changes, refreshes entries before
 * they expire, and holds the user channels of online devices so `direct` to them reaches it.
 */
export class DevicePresence {
  private readonly online = new Set<string>();
  private readonly offline = new Set<string>();
  private readonly recorded = new Set<string>();
  private readonly joined = new Set<string>();
  /** Rooms to sweep until the time given: a late join after a leave expires, and its leave event is owed. */
  private readonly sweepUntil = new Map<string, number>();
  private leading = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: DevicePresenceDeps) {}

  isOnline(device: string): boolean {
    return this.online.has(device);
  }

  /** Idempotent: a retained status delivered again changes nothing. */
  async onStatus(device: string, status: DeviceStatus): Promise<void> {
    if (status === 'online') {
      this.online.add(device);
      this.offline.delete(device);
      if (this.leading) await this.arrive(device);
    } else {
      this.online.delete(device);
      this.offline.add(device);
      for (const pair of this.joined) if (pair.startsWith(`${device}\n`)) this.joined.delete(pair);
      if (this.leading) await this.depart(device);
    }
  }

  /** A device posted in `room`: remember the room, and show the device there if it is online. */
  async posted(device: string, room: string): Promise<void> {
    const pair = `${device}\n${room}`;
    if (!this.recorded.has(pair)) {
      await this.deps.rooms.addDeviceRoom(device, room);
      remember(this.recorded, pair);
    }
    if (this.online.has(device) && !this.joined.has(pair)) {
      await this.deps.presence.join(room, device, DEVICE_PRESENCE_NODE);
      remember(this.joined, pair);
    }
  }

  /** Becomes the replica that keeps device presence: brings Redis in line with the statuses seen. */
  async lead(): Promise<void> {
    this.leading = true;
    for (const device of this.online) await this.arrive(device);
    for (const device of this.offline) await this.depart(device);
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

  private async arrive(device: string): Promise<void> {
    const rooms = (await this.deps.rooms.deviceRooms([device])).get(device) ?? [];
    for (const room of rooms) await this.deps.presence.join(room, device, DEVICE_PRESENCE_NODE);
    await this.deps.bus.subscribeUser(device);
  }

  private async depart(device: string): Promise<void> {
    await this.deps.bus.unsubscribeUser(device).catch(() => undefined);
    const rooms = (await this.deps.rooms.deviceRooms([device])).get(device) ?? [];
    const until = Date.now() + this.deps.presenceTtlMs * 3;
    for (const room of rooms) {
      await this.deps.presence.leave(room, device, DEVICE_PRESENCE_NODE);
      this.sweepUntil.set(room, until);
    }
  }

  private async refresh(): Promise<void> {
    if (!this.leading) return;
    const rooms = await this.deps.rooms.deviceRooms([...this.online]);
    const entries: { room: string; user: string }[] = [];
    for (const [user, list] of rooms) for (const room of list) entries.push({ room, user });
    await this.deps.presence.refresh(DEVICE_PRESENCE_NODE, entries);
    const now = Date.now();
    for (const [room, until] of this.sweepUntil) if (until < now) this.sweepUntil.delete(room);
    await this.deps.presence.sweep(this.sweepUntil.keys());
  }
}

function remember(set: Set<string>, value: string): void {
  if (set.size >= MEMO_MAX) set.clear();
  set.add(value);
}
