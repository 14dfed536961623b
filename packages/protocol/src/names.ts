/** Room, user and device names: safe as one MQTT topic level and inside a Redis key. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** Message ids are Redis stream ids: `<ms>-<seq>`, both decimal and below 2^64 (see isMessageId). */
export const MESSAGE_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

/** A client's id for one message, the idempotency key of a send or direct. */
export const MID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const U64_MAX = 2n ** 64n - 1n;

/** True for `<ms>-<seq>` with both parts below 2^64: exactly what Redis accepts as a stream id. */
export function isMessageId(value: unknown): value is string {
  if (typeof value !== 'string' || !MESSAGE_ID_PATTERN.test(value)) return false;
  const [ms, seq] = splitId(value);
  return ms <= U64_MAX && seq <= U64_MAX;
}

export function isMid(value: unknown): value is string {
  return typeof value === 'string' && MID_PATTERN.test(value);
}

/** Orders two stream ids numerically; negative when `a` comes first. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

function splitId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** A reaction given by name: lowercase letters, digits, `_`, `+` and `-`, 1 to 32 of them (`thumbsup`, `+1`). */
export const EMOJI_NAME_PATTERN = /^[a-z0-9_+-]{1,32}$/;

/**
 * A reaction as the emoji itself: 1 to 32 code points, each a pictograph or an emoji component
 * (skin tone, ZWJ, variation selector, keycap, regional indicator, tag), at least one of them a
 * pictograph, a regional indicator or the keycap mark U+20E3 (so "#" or "1" alone is not an emoji:
 * "1" is a name, "#" is refused).
 */
const EMOJI_SEQUENCE_PATTERN = /^(?=.*[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3])[\p{Extended_Pictographic}\p{Emoji_Component}]{1,32}$/u;

/** True for what a `react` may carry: an emoji sequence or a reaction name (see the two patterns above). */
export function isEmoji(value: unknown): value is string {
  return typeof value === 'string' && (EMOJI_NAME_PATTERN.test(value) || EMOJI_SEQUENCE_PATTERN.test(value));
}
