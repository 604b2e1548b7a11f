/**
 * client-go's EventSourceObjectSpamFilter without I/O: a token bucket per source and object, `burst` tokens,
 * refilled at `qps` per second (client-go: 25, 1/300 s), so one object's storm of events (a probe failing
 * every second) cannot flood the apiserver. Buckets live in an LRU of `maxKeys`.
 */
export interface SpamLimits {
  burst: number;
  qps: number;
  maxKeys?: number;
}

/** client-go's defaults (tools/record: defaultSpamBurst, defaultSpamQPS). */
export const CLIENT_GO_SPAM_LIMITS: SpamLimits = Object.freeze({ burst: 25, qps: 1 / 300 });

export interface SpamFilter {
  /** True when an event about `key` may be written at `nowMs` (takes a token). */
  allow(key: string, nowMs: number): boolean;
}

export function createSpamFilter(limits: SpamLimits): SpamFilter {
  const maxKeys = limits.maxKeys ?? 4096;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return {
    allow(key, nowMs) {
      const bucket = buckets.get(key) ?? { tokens: limits.burst, atMs: nowMs };
      buckets.delete(key); // re-inserted below: Map order is the LRU order
      bucket.tokens = Math.min(limits.burst, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) / 1000) * limits.qps);
      bucket.atMs = nowMs;
      const allowed = bucket.tokens >= 1;
      if (allowed) bucket.tokens -= 1;
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
      return allowed;
    },
  };
}
