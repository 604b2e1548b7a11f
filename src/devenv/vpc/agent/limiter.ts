/**
 * At most `concurrency` tasks at a time, first come first served. Namespace setup is a burst of short-lived
 * `ip` processes; run for 50 pods at once they all finish late, run a few at a time the first pods serve early.
 */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

export function createLimiter(concurrency: number): Limiter {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}
