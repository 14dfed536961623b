import { DropReason } from './topics.js';

export type DecodedText = { ok: true; text: string } | { ok: false; reason: DropReason.MalformedPayload | DropReason.TooLarge; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * A device's post or direct: UTF-8 text, or a JSON object `{"text": "..."}` (docs/protocol.md#mqtt).
 * A payload that parses as a JSON object must carry a string `text`; anything else (plain words,
 * a number, a JSON array) is taken as the text itself. Never throws.
 */
export function decodeDeviceText(payload: Uint8Array, maxTextChars: number): DecodedText {
  let raw: string;
  try {
    raw = utf8.decode(payload);
  } catch {
    return { ok: false, reason: DropReason.MalformedPayload, detail: 'payload is not valid UTF-8' };
  }
  let text = raw;
  if (raw.trimStart().startsWith('{')) {
    const value = parseJson(raw);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const field = (value as Record<string, unknown>).text;
      if (typeof field !== 'string') return { ok: false, reason: DropReason.MalformedPayload, detail: 'JSON payload needs a string field "text"' };
      text = field;
    }
  }
  if (text.trim() === '') return { ok: false, reason: DropReason.MalformedPayload, detail: 'text is empty' };
  if (text.length > maxTextChars) return { ok: false, reason: DropReason.TooLarge, detail: `text is longer than ${maxTextChars} characters` };
  return { ok: true, text };
}

export type DeviceStatus = 'online' | 'offline';

/**
 * `online` or `offline` (surrounding white space ignored); undefined for anything else. An empty
 * payload is how a retained status is cleared: the device is gone, so it counts as offline.
 */
export function decodeStatus(payload: Uint8Array): DeviceStatus | undefined {
  if (payload.length === 0) return 'offline';
  let raw: string;
  try {
    raw = utf8.decode(payload).trim();
  } catch {
    return undefined;
  }
  return raw === 'online' || raw === 'offline' ? raw : undefined;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
