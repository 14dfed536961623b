/**
 * The MQTT topic tree of docs/protocol.md#mqtt. Loop-freedom comes from its shape, never from noLocal:
 * the bridge's links read only `.../send/{device}` and `chat/devices/+/status`, and write only
 * `.../messages` and `chat/users/{user}/direct`. It reads `.../messages` only as the broker's
 * retained copies, on a connection of their own, for the ids they carry (never as input).
 */
import { isValidName } from '@chat/protocol';

/** Why the bridge dropped something: the `reason` label of chat_bridge_dropped_total. */
export enum DropReason {
  /** A room, user or device name outside ^[A-Za-z0-9_.-]{1,64}$ (a wildcard, a slash, too long...). */
  InvalidName = 'invalid_name',
  /** A topic under the bridge's subscriptions that matches no row of the table. */
  UnknownTopic = 'unknown_topic',
  /** Not UTF-8, empty, or JSON without a string `text`. */
  MalformedPayload = 'malformed_payload',
  /** `text` longer than MAX_TEXT characters. */
  TooLarge = 'too_large',
  /** A device's direct message to a user with no open connection anywhere. */
  UserOffline = 'user_offline',
  /** A broker redelivery of a message already stored (the delivery's receipt was found). */
  Redelivery = 'redelivery',
  /** A post from a device that a moderator banned from the room (as a user's `send` is refused `banned`). */
  Banned = 'banned',
  /** A post from a device that a moderator muted in the room. */
  Muted = 'muted',
  /** Messages trimmed from a room's history before the outbound leader could forward them. */
  HistoryTrimmed = 'history_trimmed',
  /** A status other than `online` / `offline`. */
  MalformedStatus = 'malformed_status',
  /** A QoS 0 device message that arrived while Redis was unreachable (QoS 1 ones wait at the broker). */
  BusUnavailable = 'bus_unavailable',
  /** The broker refused a message the bridge published (e.g. the ACL denies the bridge's user). */
  PublishFailed = 'publish_failed',
}

export type InboundTopic =
  | { kind: 'post'; room: string; device: string }
  | { kind: 'direct'; to: string; device: string }
  | { kind: 'status'; device: string }
  | { kind: 'invalid'; reason: DropReason.InvalidName | DropReason.UnknownTopic };

/**
 * What the leader's session subscribes to: plain subscriptions, so one client (one session, one
 * order) receives every post. Retain handling 2: a device's retained post is not delivered again
 * at each subscription, so a new leader does not store it again.
 */
export const POST_FILTERS = [
  { topic: 'chat/rooms/+/send/+', rh: 2 },
  { topic: 'chat/users/+/direct/send/+', rh: 2 },
] as const;

/**
 * What every replica follows, each on a fresh session of its own: the retained statuses arrive on
 * every connection, so every replica keeps the full picture of which devices are online.
 */
export const STATUS_FILTERS = [{ topic: 'chat/devices/+/status', rh: 0 }] as const;

/** Every room's retained latest message: the outbound leader's true cursors. */
export const ROOM_MESSAGES_FILTER = 'chat/rooms/+/messages';

/** The room of a `chat/rooms/{room}/messages` topic, undefined for any other topic. */
export function roomOfMessagesTopic(topic: string): string | undefined {
  const level = topic.split('/');
  const room = level[2];
  return level.length === 4 && level[0] === 'chat' && level[1] === 'rooms' && level[3] === 'messages' && isValidName(room) ? room : undefined;
}

/** Where a replica's retained read publishes its end marker; only the bridge's account may use it (ACL). */
export function syncMarkerTopic(clientId: string): string | undefined {
  // Built from MQTT_CLIENT_ID and NODE_ID, both names, but it may be longer than one name.
  return /^[A-Za-z0-9_.-]{1,200}$/.test(clientId) ? `chat/bridge/${clientId}/sync` : undefined;
}

/** Decodes a topic the broker delivered; every name is checked before it reaches a key or a topic. */
export function parseInboundTopic(topic: string): InboundTopic {
  const level = topic.split('/');
  if (level[0] !== 'chat') return { kind: 'invalid', reason: DropReason.UnknownTopic };
  if (level.length === 5 && level[1] === 'rooms' && level[3] === 'send') {
    return named({ kind: 'post', room: level[2]!, device: level[4]! }, level[2], level[4]);
  }
  if (level.length === 6 && level[1] === 'users' && level[3] === 'direct' && level[4] === 'send') {
    return named({ kind: 'direct', to: level[2]!, device: level[5]! }, level[2], level[5]);
  }
  if (level.length === 4 && level[1] === 'devices' && level[3] === 'status') {
    return named({ kind: 'status', device: level[2]! }, level[2]);
  }
  return { kind: 'invalid', reason: DropReason.UnknownTopic };
}

function named(topic: InboundTopic, ...names: (string | undefined)[]): InboundTopic {
  return names.every(isValidName) ? topic : { kind: 'invalid', reason: DropReason.InvalidName };
}

/** Where every message of `room` goes out. Undefined for a name that would not be one safe topic level. */
export function roomMessagesTopic(room: string): string | undefined {
  return isValidName(room) ? `chat/rooms/${room}/messages` : undefined;
}

export function userDirectTopic(user: string): string | undefined {
  return isValidName(user) ? `chat/users/${user}/direct` : undefined;
}

/**
 * Last line of defence before a PUBLISH: a topic with a wildcard or a NUL makes Mosquitto drop the
 * whole connection, so no such topic may ever be written, whatever produced it.
 */
export function isPublishableTopic(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic) && !topic.startsWith('$');
}
