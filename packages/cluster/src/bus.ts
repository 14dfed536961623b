import type { LeftReason, MessageChange, MessageState, PresenceEvent, Via } from '@chat/protocol';

/** A stored room message: its stream id and the serialized `message` event every member receives. */
export interface RoomMessage {
  room: string;
  id: string;
  /**
   * The stored event as JSON text, serialized once and written to every member as is: a `message`
   * frame, or a change to one (`edit`, `delete`, `reaction`; see isChange).
   */
  event: string;
  /**
   * Set by history reads on a message that was changed since: what it is now (apply with
   * latestMessageJson). Never on live traffic, which carries the changes as events of their own.
   */
  state?: MessageState;
}

/** True when a stored room event is a change to a message rather than a message. */
export function isChange(message: RoomMessage): boolean {
  return !message.event.startsWith('{"type":"message"');
}

/** What a gateway, bridge or API hands the bus to post in a room. */
export interface MessageDraft {
  room: string;
  from: string;
  text: string;
  /** Server time of receipt, epoch ms: the `ts` members see. */
  ts: number;
  via?: Via;
  /** High-resolution receipt time (epoch ms with fraction) for the delivery-latency histogram. */
  receivedAt: number;
  /**
   * Stores the message at most once per key and room within the bus's idempotency window: a repeat
   * stores nothing, reaches nobody and resolves with the first message's id. The caller scopes the
   * key (a client's `mid` with its user, an API Idempotency-Key with its route).
   */
  idempotencyKey?: string;
}

/**
 * A change to a stored message, handed to the bus to store in the room's stream as an event of its
 * own. The bus checks it against the message's current state in the same atomic step as the append.
 */
export interface ChangeDraft {
  room: string;
  /** Who makes the change: for an edit or delete, the message's author unless `moderator`. */
  from: string;
  change: MessageChange;
  /** `from` may edit and delete others' messages in this room. */
  moderator: boolean;
  /** Most distinct emoji on one message: a reaction with a new one beyond it is refused. */
  maxReactions: number;
  ts: number;
  receivedAt: number;
  /** As for MessageDraft. */
  idempotencyKey?: string;
}

/** Why a change was not stored. */
export type ChangeRefusal = 'not_found' | 'forbidden' | 'too_many_reactions';

/** What `publish` resolves with: the stored message's id, or the first one's stored under the same key. */
export interface Published {
  room: string;
  /** '' when refused. */
  id: string;
  /** True when the idempotency key was seen before: nothing was stored or delivered this time. */
  duplicate: boolean;
  /**
   * A change found nothing to do (a reaction already as asked): nothing was stored, and `id` is the
   * newest change of the message (the message's own id when it has none).
   */
  unchanged?: boolean;
  /**
   * A change was refused: the target is not a message the stream holds, or is deleted (not_found); an
   * edit or delete of another user's message without `moderator` (forbidden); one emoji too many.
   */
  refused?: ChangeRefusal;
}

/** A direct message handed to the bus. */
export interface DirectDraft {
  to: string;
  from: string;
  /** The message's id, the one inside `event`. */
  id: string;
  /** The `direct` frame as JSON text. */
  event: string;
  /** The connection that sent it, which must not get its own copy; '' for the API or a device. */
  originConn: string;
  receivedAt: number;
  /** As for MessageDraft: delivered at most once per key within the idempotency window. */
  idempotencyKey?: string;
}

export interface DirectOutcome {
  /** False when `to` has no connection anywhere (then nothing was delivered and no key was kept). */
  reached: boolean;
  /** The id the sender is acked with: the draft's, or the first one's for a duplicate. */
  id: string;
  duplicate: boolean;
}

export type RoomEvent =
  | {
      kind: 'message';
      message: RoomMessage;
      /** Id of the message stored just before this one in the room ('' for the first): lets a node see a hole. */
      prev: string;
      receivedAt: number;
    }
  | { kind: 'presence'; room: string; event: PresenceEvent; json: string }
  /**
   * An ephemeral event (typing and the like): a frame as JSON text for the room's members now, never
   * stored; `exceptUser`'s own connections do not get it.
   */
  | { kind: 'signal'; room: string; json: string; exceptUser?: string };

export interface UserEvent {
  user: string;
  /** The `direct` frame as JSON text, or for a sync the frame to pass on. */
  event: string;
  /** The connection that sent it, which must not get its own copy; '' when sent by the API or a device. */
  originConn: string;
  receivedAt: number;
  /**
   * Set for the user's own state shared with its other connections (Bus.sync: a read marker), which
   * is not a message: no device gets it, and it is not a delivery to time.
   */
  sync?: true;
}

export interface BusListener {
  room(event: RoomEvent): void;
  user(event: UserEvent): void;
  /** Live traffic may have been missed (subscriber connection lost and back): backfill every open room. */
  resync(): void;
  /** The bus became reachable (true) or unreachable (false). */
  status(connected: boolean): void;
  /** An operator disconnects `user`: close its connections on this node; returns how many were closed. */
  disconnect?(user: string): number;
  /** A moderator ended `user`'s membership of `room` (Bus.evict): take its connections here out of the room. */
  evict?(room: string, user: string, reason: LeftReason): void;
}

/** The bus did not confirm the call: nothing was accepted, or the outcome is unknown (a timeout). */
export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
}

/**
 * Cross-node traffic. A room message is appended to the room's history and published to every
 * subscribed node in one atomic step: the history id is the message id, and every node sees a
 * room's messages in the order the bus accepted them. Delivery to nodes is at-most-once; a node
 * repairs what it missed from history (see RoomFeed).
 */
export interface Bus {
  readonly connected: boolean;
  /** Registers the single listener for everything this node is subscribed to. */
  listen(listener: BusListener): void;
  /**
   * Appends to the room's history and publishes, in one atomic step with the idempotency check. A
   * change is also checked against its message and applied to the message's state in that step.
   * Rejects with BusUnavailableError when the message was not stored, or when the outcome is unknown
   * (a timeout): resending with the same idempotency key then stores it at most once.
   */
  publish(draft: MessageDraft | ChangeDraft): Promise<Published>;
  /** Delivers a direct frame to `to`'s connections and the sender's other connections. */
  direct(draft: DirectDraft): Promise<DirectOutcome>;
  /**
   * An ephemeral room event: `json` (a server frame) reaches the members of `room` on every node
   * that holds the room now, at most once, in no order with the room's messages; it is never stored,
   * replayed or counted as a message. The connections of `exceptUser` (the user it is about) do not
   * get it. Rejects with BusUnavailableError.
   */
  signal(room: string, json: string, exceptUser?: string): Promise<void>;
  /**
   * The user's own state for its other connections: `json` (a server frame) reaches every connection
   * of `user` on every node but `originConn`, at most once, as a UserEvent with `sync` set. Rejects
   * with BusUnavailableError.
   */
  sync(user: string, json: string, originConn: string): Promise<void>;
  /**
   * Closes every connection of `user` on every node (each node's listener does it) and resolves with
   * how many were closed, as the nodes that hold the user report within about a second.
   */
  disconnect(user: string): Promise<number>;
  /**
   * Ends `user`'s membership of `room` on every connection of it on every node (a kick or a ban): the
   * listener of each node that holds the user is told, at most once. Rejects with BusUnavailableError.
   */
  evict(room: string, user: string, reason: LeftReason): Promise<void>;
  subscribeRoom(room: string): Promise<void>;
  unsubscribeRoom(room: string): Promise<void>;
  /** From now on, directs to `user` (or from `user`, for its other connections) reach this node. */
  subscribeUser(user: string): Promise<void>;
  unsubscribeUser(user: string): Promise<void>;
  close(): Promise<void>;
}
