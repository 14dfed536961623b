/** Room, user and device names: safe as one MQTT topic level and inside a Redis key. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

export function isValidName(value: unknown): value is string {
  return typeof value === 'string' && NAME_PATTERN.test(value);
}

/** Message ids are Redis stream ids: `<ms>-<seq>`, both decimal. */
export const MESSAGE_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;

export function isMessageId(value: unknown): value is string {
  return typeof value === 'string' && MESSAGE_ID_PATTERN.test(value);
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
