/**
 * The one place every AWS call is counted. The SDK clients report each call here (see clients.ts); the
 * Prometheus metrics, the benchmarks and the tests all read these counters, so their figures agree.
 */
export type CallOutcome = 'success' | 'error' | 'throttled';

export interface CallRecord {
  service: string;
  operation: string;
  outcome: CallOutcome;
  durationMs: number;
}

export type CallListener = (call: CallRecord) => void;

const MUTATING = /^(Create|Delete|Modify|Register|Deregister|Add|Remove|Set|Attach|Detach|Assign|Unassign|Run|Terminate|Authorize|Revoke|Associate|Disassociate|Start|Stop|Reboot)/;

/** True for calls that change the cloud, as opposed to reads (Describe, List, Get). */
export const isMutating = (operation: string): boolean => MUTATING.test(operation);

export class AwsCallCounter {
  private readonly counts = new Map<string, number>();
  private readonly listeners = new Set<CallListener>();
  private inFlightNow = 0;
  private inFlightPeak = 0;
  private totalDurationMs = 0;

  /** Called by the client middleware when a call starts; returns the function to call when it ends. */
  begin(service: string, operation: string): (outcome: CallOutcome) => void {
    const started = performance.now();
    this.inFlightNow++;
    this.inFlightPeak = Math.max(this.inFlightPeak, this.inFlightNow);
    return (outcome) => {
      this.inFlightNow--;
      const durationMs = performance.now() - started;
      this.totalDurationMs += durationMs;
      const key = `${service}:${operation}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      const record: CallRecord = { service, operation, outcome, durationMs };
      for (const listener of this.listeners) listener(record);
    };
  }

  onCall(listener: CallListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls so far as `{ "EC2:DescribeSubnets": 2, ... }`. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  total(filter: (operation: string) => boolean = () => true): number {
    let sum = 0;
    for (const [key, count] of this.counts) if (filter(key.slice(key.indexOf(':') + 1))) sum += count;
    return sum;
  }

  get mutating(): number {
    return this.total(isMutating);
  }

  get peakConcurrency(): number {
    return this.inFlightPeak;
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  /** Time spent inside AWS calls (summed over calls, so concurrent calls add up). */
  get timeInCallsMs(): number {
    return this.totalDurationMs;
  }

  reset(): void {
    this.counts.clear();
    this.inFlightPeak = this.inFlightNow;
    this.totalDurationMs = 0;
  }
}

/** Difference of two snapshots: the calls made between them. */
export function callsBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const diff: Record<string, number> = {};
  for (const [key, count] of Object.entries(after)) {
    const delta = count - (before[key] ?? 0);
    if (delta > 0) diff[key] = delta;
  }
  return diff;
}
