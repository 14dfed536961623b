// The shape every row returns, and the checks that turn a promise of docs/protocol.md#faults into PASS or FAIL.

/** A named promise: `ok` false breaks the row; `detail` says what was seen. */
export const check = (what, ok, detail = '') => ({ what, ok: Boolean(ok), detail: String(detail) });

export function rowResult(name, summary, { rssBefore, rssAfter, checks, extra = {}, startedAt, note, p99 }) {
  const broken = checks.filter((c) => !c.ok);
  return {
    name,
    pass: broken.length === 0,
    sent: summary.sent ?? 0,
    acked: summary.acked ?? 0,
    delivered: summary.delivered ?? 0,
    lost: summary.lost ?? 0,
    doubled: summary.doubled ?? 0,
    reordered: summary.reordered ?? 0,
    gaps: summary.gaps ?? 0,
    recoverMs: summary.recoverMs ?? -1,
    rssBeforeMb: rssBefore,
    rssAfterMb: rssAfter,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    broken: broken.map((c) => `${c.what}${c.detail ? ` (${c.detail})` : ''}`),
    note,
    p99,
    checks,
    detail: { ...summary, ...extra },
  };
}

/** A row that could not run to its end (a process did not start...): a FAIL with the reason. */
export function rowError(name, error, startedAt) {
  return rowResult(name, {}, {
    rssBefore: Number.NaN, rssAfter: Number.NaN, startedAt,
    checks: [check('row ran to its end', false, String(error?.stack ?? error).split('\n').slice(0, 3).join(' | '))],
  });
}
