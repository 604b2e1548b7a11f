/**
 * When the data plane re-reads the emulator (ADR 0012): the plugin's change counter (`GET /_cpl/version`, bumped
 * by every mutating ELBv2/EC2 request) is polled every 250 ms and a read starts only when it moved (or the
 * emulator restarted: another boot id); a full read every 30 s anyway. An emulator without the counter is read
 * every second. One read at a time; a change seen during a read starts another right after it.
 */
const POLL_MS = 250;
const FULL_READ_MS = 30_000;
const WITHOUT_COUNTER_MS = 1000;

export interface Poller {
  /** Resolves after the first successful read. */
  ready: Promise<void>;
  stop(): void;
}

export async function fetchVersion(endpoint: string): Promise<string | undefined> {
  const response = await fetch(`${endpoint}/_cpl/version`, { signal: AbortSignal.timeout(2000) });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`GET ${endpoint}/_cpl/version: HTTP ${response.status}`);
  const body = (await response.json()) as { version?: number; boot?: string };
  return `${body.boot ?? ''}:${body.version ?? 0}`;
}

export function startPoller(options: { endpoint: string; read: () => Promise<void>; log: (line: string) => void }): Poller {
  let seen: string | undefined = 'none yet';
  let lastRead = 0;
  let stopped = false;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const tick = async (): Promise<void> => {
    let version: string | undefined;
    try {
      version = await fetchVersion(options.endpoint);
    } catch (error) {
      options.log(`change counter: ${(error as Error).message}`);
      return;
    }
    const due = version === undefined ? Date.now() - lastRead >= WITHOUT_COUNTER_MS : version !== seen || Date.now() - lastRead >= FULL_READ_MS;
    if (!due) return;
    try {
      await options.read();
      // The version read before the read started: a change during the read is seen at the next tick.
      seen = version;
      lastRead = Date.now();
      markReady();
    } catch (error) {
      options.log(`read failed: ${(error as Error).message}`);
    }
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      const started = Date.now();
      await tick();
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
