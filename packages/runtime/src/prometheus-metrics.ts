import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { CLOSE_REASONS, type BridgeMetrics, type CloseReason, type GatewayMetrics, type MetricsEndpoint } from './metrics.js';

/** Delivery on one machine takes well under a millisecond: the low buckets are where it lives. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A registry of its own per service (not prom-client's global one), so several nodes can share a process. */
function registryFor(node: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  collectDefaultMetrics({ register: registry });
  return registry;
}

function endpoint(registry: Registry): MetricsEndpoint {
  return { contentType: registry.contentType, render: () => registry.metrics() };
}

export function createGatewayMetrics(node: string): GatewayMetrics & MetricsEndpoint {
  const registry = registryFor(node);
  const registers = [registry];
  const connections = new Gauge({ name: 'chat_connections', help: 'WebSocket connections open now', registers });
  const opened = new Counter({ name: 'chat_connections_opened_total', help: 'WebSocket connections accepted', registers });
  const closed = new Counter({ name: 'chat_connections_closed_total', help: 'WebSocket connections closed, by reason', labelNames: ['reason'], registers });
  // Every reason is exported from the start, so a rate or an alert on one reads 0, not "no data".
  for (const reason of CLOSE_REASONS) closed.inc({ reason }, 0);
  const frames = new Counter({ name: 'chat_frames_received_total', help: 'Client frames received, by type', labelNames: ['type'], registers });
  const delivered = new Counter({ name: 'chat_messages_delivered_total', help: 'Frames written to clients', registers });
  const rooms = new Gauge({ name: 'chat_rooms', help: 'Rooms with members on this node', registers });
  const latency = new Histogram({
    name: 'chat_delivery_latency_seconds', help: "From the accepting gateway's receipt to this node's fan-out", buckets: LATENCY_BUCKETS, registers,
  });
  const publish = new Histogram({ name: 'chat_bus_publish_seconds', help: 'Time to store and publish a message on the bus', buckets: LATENCY_BUCKETS, registers });
  const errors = new Counter({ name: 'chat_errors_total', help: 'Error frames sent, by code', labelNames: ['code'], registers });
  const dropped = new Counter({ name: 'chat_backpressure_dropped_total', help: 'Frames not written to a connection because it was being closed as a slow consumer', registers });
  const bus = new Gauge({ name: 'chat_bus_connected', help: '1 while the bus is reachable', registers });
  const duplicates = new Counter({ name: 'chat_duplicates_total', help: 'Sends and directs answered as duplicates of an earlier mid', registers });
  const typing = new Counter({ name: 'chat_typing_total', help: 'Typing indicators relayed to a room (stops included; throttled ones not)', registers });
  const readMarkers = new Counter({ name: 'chat_read_markers_total', help: 'Read markers moved forward', registers });
  const changes = {
    edit: new Counter({ name: 'chat_edits_total', help: 'Message edits stored', registers }),
    delete: new Counter({ name: 'chat_deletes_total', help: 'Message deletes stored', registers }),
    reaction: new Counter({ name: 'chat_reactions_total', help: 'Reactions added or removed', registers }),
  };
  const moderation = new Counter({ name: 'chat_moderation_total', help: 'Moderation actions taken (kick, ban, unban, mute, unmute, slowmode)', labelNames: ['action'], registers });
  for (const action of ['kick', 'ban', 'unban', 'mute', 'unmute', 'slowmode']) moderation.inc({ action }, 0);

  return {
    ...endpoint(registry),
    connectionOpened() { opened.inc(); connections.inc(); },
    connectionClosed(reason: CloseReason) { closed.inc({ reason }); connections.dec(); },
    frameReceived(type) { frames.inc({ type }); },
    delivered(n) { delivered.inc(n); },
    rooms(n) { rooms.set(n); },
    deliveryLatency(s) { latency.observe(s); },
    busPublish(s) { publish.observe(s); },
    error(code) { errors.inc({ code }); },
    backpressureDropped(n) { dropped.inc(n); },
    busConnected(up) { bus.set(up ? 1 : 0); },
    duplicate() { duplicates.inc(); },
    typing() { typing.inc(); },
    readMarker() { readMarkers.inc(); },
    changed(kind) { changes[kind].inc(); },
    moderation(action) { moderation.inc({ action }); },
  };
}

export function createBridgeMetrics(node: string): BridgeMetrics & MetricsEndpoint {
  const registry = registryFor(node);
  const registers = [registry];
  const crossed = new Counter({ name: 'chat_bridge_messages_total', help: 'Messages carried across, by direction', labelNames: ['direction'], registers });
  const dropped = new Counter({ name: 'chat_bridge_dropped_total', help: 'Messages dropped, by reason', labelNames: ['reason'], registers });
  const mqtt = new Gauge({ name: 'chat_bridge_mqtt_connected', help: '1 while connected to the MQTT broker', registers });
  const bus = new Gauge({ name: 'chat_bus_connected', help: '1 while the bus is reachable', registers });
  for (const direction of ['to_mqtt', 'to_chat']) crossed.inc({ direction }, 0);
  return {
    ...endpoint(registry),
    crossed(direction) { crossed.inc({ direction }); },
    dropped(reason) { dropped.inc({ reason }); },
    mqttConnected(up) { mqtt.set(up ? 1 : 0); },
    busConnected(up) { bus.set(up ? 1 : 0); },
  };
}
