/**
 * The hash slot of a key, as Redis Cluster computes it (https://redis.io/docs/reference/cluster-spec/,
 * "Keys distribution model"): CRC16/XMODEM of the hash tag, modulo 16384. The hash tag is what lies
 * between the first `{` and the first `}` after it, when that is not empty; otherwise the whole key.
 * redis-cluster.test.ts checks it against the server's own CLUSTER KEYSLOT.
 */
export const SLOT_COUNT = 16384;

const table = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  table[byte] = crc;
}

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (table[((crc >> 8) ^ b) & 0xff] ?? 0);
  return crc;
}

/** The part of `key` that decides its slot. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % SLOT_COUNT;
}
