// A latency histogram in milliseconds that worker processes fill and the coordinator merges by
// adding counts. Resolution: 10 µs below 10 ms, 100 µs below 100 ms, 1 ms below 10 s; the exact
// maximum is kept beside it.
const FINE_LIMIT_MS = 10;
const MID_LIMIT_MS = 100;
const COARSE_LIMIT_MS = 10_000;
const FINE_BUCKETS = FINE_LIMIT_MS * 100;
const MID_BUCKETS = (MID_LIMIT_MS - FINE_LIMIT_MS) * 10;
const COARSE_BUCKETS = COARSE_LIMIT_MS - MID_LIMIT_MS;
const BUCKETS = FINE_BUCKETS + MID_BUCKETS + COARSE_BUCKETS + 1;

function bucketOf(ms) {
  if (ms < 0) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 100);
  if (ms < MID_LIMIT_MS) return FINE_BUCKETS + Math.floor((ms - FINE_LIMIT_MS) * 10);
  if (ms < COARSE_LIMIT_MS) return FINE_BUCKETS + MID_BUCKETS + Math.floor(ms - MID_LIMIT_MS);
  return BUCKETS - 1;
}

/** The upper edge of a bucket, so a percentile never reads lower than the samples in it. */
function upperEdgeOf(bucket) {
  if (bucket < FINE_BUCKETS) return (bucket + 1) / 100;
  if (bucket < FINE_BUCKETS + MID_BUCKETS) return FINE_LIMIT_MS + (bucket - FINE_BUCKETS + 1) / 10;
  if (bucket < BUCKETS - 1) return MID_LIMIT_MS + (bucket - FINE_BUCKETS - MID_BUCKETS + 1);
  return Infinity;
}

export class Histogram {
  counts = new Array(BUCKETS).fill(0);
  total = 0;
  maxMs = 0;

  record(ms) {
    this.counts[bucketOf(ms)]++;
    this.total++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds a histogram or its JSON form (`{counts, total, maxMs}`) from another process. */
  merge(other) {
    for (let i = 0; i < BUCKETS; i++) this.counts[i] += other.counts[i];
    this.total += other.total;
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  percentile(p) {
    if (this.total === 0) return null;
    const rank = Math.ceil((p / 100) * this.total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperEdgeOf(i), this.maxMs);
    }
    return this.maxMs;
  }

  summary() {
    return { count: this.total, p50: this.percentile(50), p99: this.percentile(99), max: this.total ? this.maxMs : null };
  }

  toJSON() {
    return { counts: this.counts, total: this.total, maxMs: this.maxMs };
  }
}
