import type { ReadPosition } from '@chat/protocol';
import type { Marked, ReadMarkers } from './read-markers.js';
import { guarded, type RedisClient } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Read markers in a hash per room, counted against the room's message counter (the chatRead script). */
export class RedisReadMarkers implements ReadMarkers {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  async position(room: string, user: string): Promise<ReadPosition> {
    const { id, unread } = await this.run(room, user, '');
    return { id, unread };
  }

  mark(room: string, user: string, id: string): Promise<Marked> {
    return this.run(room, user, id);
  }

  private async run(room: string, user: string, id: string): Promise<Marked> {
    const [marker, unread, moved] = await guarded(this.redis.chatRead(this.keys.roomLog(room), this.keys.roomSerial(room), this.keys.roomRead(room), user, id));
    return { id: marker === '' ? null : marker, unread, moved: moved === 1 };
  }
}
