import { callsBetween, isMutating, type AwsCallCounter, type CallOutcome } from '../../src/cloud/calls.ts';
import type { Figures } from './types.ts';

/** One AWS call as the counter reported it, placed on the performance.now() clock. */
export interface TimedCall {
  service: string;
  operation: string;
  outcome: CallOutcome;
  start: number;
  end: number;
}

/**
 * Every call an AwsCallCounter reports, with its start and end (the counter's onCall gives the end and the
 * duration). Counts always come from the counter itself (snapshot()); this log only adds timing.
 */
export class CallLog {
  readonly calls: TimedCall[] = [];
  private readonly off: () => void;

  constructor(counter: AwsCallCounter) {
    this.off = counter.onCall((call) => {
      const end = performance.now();
      this.calls.push({ service: call.service, operation: call.operation, outcome: call.outcome, start: end - call.durationMs, end });
    });
  }

  between(from: number, to: number): TimedCall[] {
    return this.calls.filter((c) => c.end >= from && c.start <= to);
  }

  close(): void {
    this.off();
  }
}

/** Wall time during which at least one of the calls was in flight, clipped to [from, to]. */
export function busyMs(calls: TimedCall[], from: number, to: number): number {
  const spans = calls.map((c) => [Math.max(c.start, from), Math.min(c.end, to)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let open = -Infinity;
  let close = -Infinity;
  for (const [a, b] of spans) {
    if (a > close) {
      if (close > open) total += close - open;
      open = a;
      close = b;
    } else close = Math.max(close, b);
  }
  if (close > open) total += close - open;
  return total;
}

/** Most calls in flight at once among these calls. */
export function peakOverlap(calls: TimedCall[]): number {
  const edges = calls.flatMap((c) => [[c.start, 1] as const, [c.end, -1] as const]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of edges) {
    now += delta;
    peak = Math.max(peak, now);
  }
  return peak;
}

export interface CallWindow {
  /**
   * Closes the window: the calls the counter saw since it opened, and how the wall time splits. With `at`
   * (performance.now() of an event already past), the wall time and its split end there instead of now.
   */
  end(at?: number): CallFigures;
  readonly startedAt: number;
}

export interface CallFigures {
  calls: number;
  mutatingCalls: number;
  readCalls: number;
  callsByOperation: Record<string, number>;
  /** Wall time of the window. */
  wallMs: number;
  /** Sum of call durations (the counter's timeInCallsMs): concurrent calls add up. */
  awsCallTimeMs: number;
  /** Wall time with at least one AWS call in flight: the emulator's share of the window. */
  awsBusyMs: number;
  /** Wall time with no AWS call in flight: the controller's own work, the Kubernetes API and waits. */
  notInAwsMs: number;
  /** Most calls in flight at once within the window. */
  peakConcurrency: number;
}

export interface Observed {
  calls: AwsCallCounter;
  callLog: CallLog;
}

export function openWindow({ calls: counter, callLog: log }: Observed): CallWindow {
  const startedAt = performance.now();
  const before = counter.snapshot();
  const timeBefore = counter.timeInCallsMs;
  return {
    startedAt,
    end(at?: number) {
      const endedAt = at ?? performance.now();
      const byOperation = callsBetween(before, counter.snapshot());
      const calls = Object.values(byOperation).reduce((a, b) => a + b, 0);
      const mutating = Object.entries(byOperation)
        .filter(([key]) => isMutating(key.slice(key.indexOf(':') + 1)))
        .reduce((a, [, n]) => a + n, 0);
      const inWindow = log.between(startedAt, endedAt);
      const busy = busyMs(inWindow, startedAt, endedAt);
      return {
        calls,
        mutatingCalls: mutating,
        readCalls: calls - mutating,
        callsByOperation: byOperation,
        wallMs: round(endedAt - startedAt),
        awsCallTimeMs: round(counter.timeInCallsMs - timeBefore),
        awsBusyMs: round(busy),
        notInAwsMs: round(endedAt - startedAt - busy),
        peakConcurrency: peakOverlap(inWindow),
      };
    },
  };
}

/** The figures of a call window under a prefix: `prefix.calls`, `prefix.callsByOperation`, … */
export function prefixed(prefix: string, figures: object): Figures {
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [prefix ? `${prefix}.${k}` : k, v as Figures[string]]));
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN when there are none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

/** p50, p95, p99 and max under a prefix, rounded to 0.1 ms. */
export function latencyFigures(prefix: string, values: number[]): Figures {
  return {
    [`${prefix}.count`]: values.length,
    [`${prefix}.p50Ms`]: round(percentile(values, 50)),
    [`${prefix}.p95Ms`]: round(percentile(values, 95)),
    [`${prefix}.p99Ms`]: round(percentile(values, 99)),
    [`${prefix}.maxMs`]: round(values.length ? Math.max(...values) : Number.NaN),
  };
}

export const round = (value: number, digits = 1): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Counts divided by n (per resync, per change), to 0.01. */
export function divided(counts: Record<string, number>, n: number): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / Math.max(n, 1), 2)]));
}

/** Runs fn over items with at most `limit` at once; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
