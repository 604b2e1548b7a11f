/**
 * Pushes measured target health to the emulator plugin (`POST /_cpl/target-health`, docs/emulator.md), which
 * answers DescribeTargetHealth from it. Only changes are sent, batched, at most one push per `minIntervalMs`;
 * a failed push is retried; the whole state is pushed again every `resyncMs` (an emulator restarted in between
 * forgot it).
 */

export interface PushedHealth {
  state: string;
  reason?: string;
  description?: string;
}

/** The plugin's body: group ARN → ("id:port" → health, or null to forget it), or null to forget the group. */
export type HealthPush = Record<string, Record<string, PushedHealth | null> | null>;

export interface ReporterOptions {
  emulatorEndpoint: string;
  /** The whole current state, for resyncs. */
  snapshot: () => HealthPush;
  minIntervalMs?: number;
  resyncMs?: number;
  retryMs?: number;
  log?: (line: string) => void;
  post?: (url: string, body: HealthPush) => Promise<void>;
}

export interface Reporter {
  changed(targetGroupArn: string, key: string, health: PushedHealth | null): void;
  forgetGroup(targetGroupArn: string): void;
  /** Sends what is pending, then stops. */
  stop(): Promise<void>;
}

async function postJson(url: string, body: HealthPush): Promise<void> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text.slice(0, 300)}`);
}

export function startReporter(options: ReporterOptions): Reporter {
  const url = `${options.emulatorEndpoint.replace(/\/$/, '')}/_cpl/target-health`;
  const minIntervalMs = options.minIntervalMs ?? 250;
  const retryMs = options.retryMs ?? 1000;
  const post = options.post ?? postJson;
  const log = options.log ?? (() => {});
  const pending = new Map<string, Map<string, PushedHealth | null> | null>();
  let lastPushAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> | undefined;
  let stopped = false;

  const schedule = (delayMs: number): void => {
    if (timer || inFlight || stopped || pending.size === 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      inFlight = flush().finally(() => {
        inFlight = undefined;
        schedule(Math.max(0, lastPushAt + minIntervalMs - Date.now()));
      });
    }, delayMs);
  };

  const take = (): HealthPush => {
    const body: HealthPush = {};
    for (const [arn, targets] of pending) body[arn] = targets === null ? null : Object.fromEntries(targets);
    pending.clear();
    return body;
  };

  /** Puts a failed push back under what changed since (newer entries win). */
  const restore = (body: HealthPush): void => {
    for (const [arn, targets] of Object.entries(body)) {
      const newer = pending.get(arn);
      if (newer === null) continue;
      if (targets === null) {
        if (newer === undefined) pending.set(arn, null);
        continue;
      }
      const merged = new Map(Object.entries(targets));
      for (const [key, health] of newer ?? []) merged.set(key, health);
      pending.set(arn, merged);
    }
  };

  async function flush(): Promise<void> {
    if (pending.size === 0) return;
    const body = take();
    lastPushAt = Date.now();
    try {
      await post(url, body);
    } catch (error) {
      log(`target health push failed, retrying in ${retryMs} ms: ${(error as Error).message}`);
      restore(body);
      lastPushAt = Date.now() + retryMs - minIntervalMs;
    }
  }

  const resync = setInterval(() => {
    for (const [arn, targets] of Object.entries(options.snapshot())) {
      pending.set(arn, targets === null ? null : new Map(Object.entries(targets)));
    }
    schedule(0);
  }, options.resyncMs ?? 30_000);
  resync.unref();

  return {
    changed(targetGroupArn, key, health) {
      let targets = pending.get(targetGroupArn);
      if (!targets) {
        targets = new Map();
        pending.set(targetGroupArn, targets);
      }
      targets.set(key, health);
      schedule(Math.max(0, lastPushAt + minIntervalMs - Date.now()));
    },
    forgetGroup(targetGroupArn) {
      pending.set(targetGroupArn, null);
      schedule(Math.max(0, lastPushAt + minIntervalMs - Date.now()));
    },
    async stop() {
      stopped = true;
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      timer = undefined;
      await inFlight;
      await flush();
    },
  };
}
