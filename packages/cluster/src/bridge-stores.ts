/**
 * What the MQTT bridge replicas share besides the bus, as ports with one implementation per backend:
 * in Redis (RedisBridgeState, RedisLease) for replicas in several processes, in memory
 * (MemoryBridgeState, MemoryLease) for a bridge beside the in-process bus.
 */

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

/** At most one holder at a time, with a fencing token per acquisition (see RedisLease). */
export interface Lease {
  readonly ttlMs: number;
  acquire(holder: string): Promise<string | undefined>;
  renew(token: string): Promise<boolean>;
  release(token: string): Promise<void>;
}

export interface BridgeStores {
  state: CursorStore & DeviceRoomStore;
  lease: Lease;
}

/** The lease in one process: the same rules as RedisLease, with the clock of this process. */
export class MemoryLease implements Lease {
  private holder: { token: string; until: number } | undefined;
  private epoch = 0;

  constructor(readonly ttlMs: number) {}

  /** The token holding the lease now, if any. */
  get token(): string | undefined {
    return this.holder !== undefined && this.holder.until > Date.now() ? this.holder.token : undefined;
  }

  async acquire(holder: string): Promise<string | undefined> {
    if (this.token !== undefined) return undefined;
    const token = `${holder}#${++this.epoch}`;
    this.holder = { token, until: Date.now() + this.ttlMs };
    return token;
  }

  async renew(token: string): Promise<boolean> {
    if (this.token !== token) return false;
    this.holder = { token, until: Date.now() + this.ttlMs };
    return true;
  }

  async release(token: string): Promise<void> {
    if (this.token === token) this.holder = undefined;
  }
}

/** The bridge's shared state in one process; cursor saves are fenced by `lease` as in Redis. */
export class MemoryBridgeState implements CursorStore, DeviceRoomStore {
  private origin: string | undefined;
  private readonly cursors = new Map<string, string>();
  private readonly devices = new Map<string, Set<string>>();

  constructor(private readonly lease: MemoryLease) {}

  async ensureOrigin(): Promise<string> {
    this.origin ??= `${Date.now()}-0`;
    return this.origin;
  }

  async loadCursors(): Promise<{ origin: string; cursors: Map<string, string> }> {
    return { origin: await this.ensureOrigin(), cursors: new Map(this.cursors) };
  }

  async saveCursors(token: string, cursors: Map<string, string>): Promise<boolean> {
    if (this.lease.token !== token) return false;
    for (const [room, id] of cursors) this.cursors.set(room, id);
    return true;
  }

  async addDeviceRoom(device: string, room: string): Promise<void> {
    let rooms = this.devices.get(device);
    if (rooms === undefined) this.devices.set(device, (rooms = new Set()));
    rooms.add(room);
  }

  async deviceRooms(devices: readonly string[]): Promise<Map<string, string[]>> {
    return new Map(devices.map((device) => [device, [...(this.devices.get(device) ?? [])]]));
  }
}
