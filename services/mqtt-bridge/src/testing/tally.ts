/**
 * Counts for the fault tests (docs/protocol.md#faults: nothing lost, nothing twice, nothing reordered), printed
 * into the test output so a run shows its figures. Exists for tests only; add a count here when a
 * test needs one.
 */

export interface Tally {
  /** Messages the sender had acknowledged. */
  sent: number;
  /** Messages that arrived, duplicates included. */
  stored: number;
  /** Arrivals of a message already seen. */
  doubled: number;
  /** First arrivals that came before a message sent earlier (pairs of neighbours out of order). */
  reordered: number;
  /** Sent messages that never arrived. */
  missing: number;
}

/** `sent` in the order it was sent, `got` in the order it arrived; both by a key unique per message. */
export function tally(sent: readonly string[], got: readonly string[]): Tally {
  const position = new Map(sent.map((key, i) => [key, i]));
  const seen = new Set<string>();
  let doubled = 0;
  let reordered = 0;
  let last = -1;
  for (const key of got) {
    if (seen.has(key)) {
      doubled++;
      continue;
    }
    seen.add(key);
    const at = position.get(key) ?? -1;
    if (at < last) reordered++;
    last = Math.max(last, at);
  }
  return { sent: sent.length, stored: got.length, doubled, reordered, missing: sent.filter((key) => !seen.has(key)).length };
}

export function report(what: string, counts: Tally): void {
  process.stdout.write(`# ${what}: sent ${counts.sent}, stored ${counts.stored}, doubled ${counts.doubled}, reordered ${counts.reordered}, missing ${counts.missing}\n`);
}
