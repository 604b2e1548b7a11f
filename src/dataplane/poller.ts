/**
 * When the data plane re-reads the emulator (ADR 0012): every 250 ms it asks the plugin what changed since the
 * version it has applied (`GET /_cpl/changes?since=N`: each mutating ELBv2/EC2 request with the ARNs it named)
 * and re-reads just that (`idle` runs when nothing changed: timed work such as drained groups); a full read at
 * start, every 5 minutes as a safety net, after an emulator restart (another boot id) or when the plugin's log no
 * longer reaches back far enough. An emulator without the plugin is read in full every second. (A full read of
 * 200 NLBs takes the emulator ~13 s, during which no change applies: the design's 30 s would stall a change that
 * often.)
 */
import type { Change } from './changes.ts';

const POLL_MS = 250;
const FULL_READ_MS = 300_000;
const WITHOUT_PLUGIN_MS = 1000;
const SLOW_READ_MS = 20_000;

export interface Poller {
  /** Resolves after the first successful read. */
  ready: Promise<void>;
  stop(): void;
}

interface ChangesAnswer {
  version: number;
  boot: string;
  complete: boolean;
  changes: Change[];
}

/** The plugin's answer, or undefined when the emulator has no plugin. */
export async function fetchChanges(endpoint: string, since: number): Promise<ChangesAnswer | undefined> {
  const response = await fetch(`${endpoint}/_cpl/changes?since=${since}`, { signal: AbortSignal.timeout(2000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${endpoint}/_cpl/changes: HTTP ${response.status}`);
  return (await response.json()) as ChangesAnswer;
}

export function startPoller(options: {
  endpoint: string;
  full: () => Promise<void>;
  changed: (changes: readonly Change[]) => Promise<void>;
  idle?: () => Promise<void>;
  log: (line: string) => void;
}): Poller {
  let applied: { boot: string; version: number } | undefined;
  let lastFull = 0;
  let stopped = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const full = async (answer: ChangesAnswer | undefined): Promise<void> => {
    await options.full();
    // The version read before the read started: a change during the read is listed again next time.
    applied = answer && { boot: answer.boot, version: answer.version };
    lastFull = Date.now();
    markReady();
  };

  const tick = async (): Promise<void> => {
    const answer = await fetchChanges(options.endpoint, applied?.version ?? 0);
    if (!answer) {
      if (Date.now() - lastFull >= WITHOUT_PLUGIN_MS) await full(undefined);
      return;
    }
    if (!applied || answer.boot !== applied.boot || !answer.complete || Date.now() - lastFull >= FULL_READ_MS) {
      await full(answer);
      return;
    }
    if (answer.changes.length === 0) {
      await options.idle?.();
      return;
    }
    await options.changed(answer.changes);
    applied = { boot: answer.boot, version: answer.version };
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const started = Date.now();
      // A read that hangs stops every change from applying: say so while it lasts instead of going quiet.
      const watchdog = setInterval(() => options.log(`read still running after ${Math.round((Date.now() - started) / 1000)} s`), SLOW_READ_MS);
      try {
        await tick();
      } catch (error) {
        options.log(`read failed: ${(error as Error).message}`);
      } finally {
        clearInterval(watchdog);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, POLL_MS - (Date.now() - started))));
    }
  };
  void loop();
  return {
    ready,
    stop() {
      stopped = true;
    },
  };
}
