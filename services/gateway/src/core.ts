import type { Bus, HistoryStore, NodeRegistry, PresenceStore, ReadMarkers, RoomFeed } from '@chat/cluster';
import type { ServerFrame } from '@chat/protocol';
import type { GatewayMetrics, Logger } from '@chat/runtime';
import type { GatewayConfig } from './config.js';
import type { Membership } from './membership.js';
import type { Moderation } from './moderation.js';
import type { RoomSizes } from './room-sizes.js';
import type { Session } from './session.js';

/**
 * What the frame handlers and the HTTP API may use of the gateway core. The core (gateway.ts)
 * implements it and dispatches to the handlers; the handlers see only this, so they do not depend
 * on the core that calls them.
 */
export interface Core {
  readonly config: GatewayConfig;
  readonly bus: Bus;
  readonly history: HistoryStore;
  readonly presence: PresenceStore;
  readonly markers: ReadMarkers;
  readonly nodes: NodeRegistry;
  readonly feed: RoomFeed;
  readonly membership: Membership;
  /** Who may moderate, and the bans, mutes and slow mode a join or send is checked against. */
  readonly moderation: Moderation;
  /** Member counts, and counts-only presence for large rooms. */
  readonly roomSizes: RoomSizes;
  readonly metrics: GatewayMetrics;
  readonly log: Logger;
  /** Writes a frame to one session, with the request's ref; counts error frames. */
  reply(session: Session, frame: ServerFrame, ref: string | undefined): void;
  /** Makes a session a member of a room here and in the cluster's presence (not yet reading it). */
  enterRoom(session: Session, room: string): Promise<void>;
  leaveRoom(session: Session, room: string, why: LeaveReason): void;
}

/** Why a session leaves a room: its `leave` frame, a join that failed half-way, its connection closing, or a moderator's kick or ban. */
export type LeaveReason = 'leave' | 'join_failed' | 'closed' | 'kicked' | 'banned';
