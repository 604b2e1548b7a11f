import { describe, expect, it } from 'vitest';
import { coalescing } from '../../src/dataplane/coalesce.ts';

describe('coalescing', () => {
  it('one run at a time; requests while a run waits share it; a request during a run gets a run after it', async () => {
    const log: string[] = [];
    let release: () => void = () => undefined;
    let runs = 0;
    const apply = coalescing(async () => {
      const n = ++runs;
      log.push(`start ${n}`);
      await new Promise<void>((resolve) => (release = resolve));
      log.push(`end ${n}`);
    });
    const first = apply();
    await Promise.resolve();
    // The first run has started: these three wait for one second run.
    const [a, b, c] = [apply(), apply(), apply()];
    expect(a).toBe(b);
    expect(b).toBe(c);
    release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await a;
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('a failed run does not stop the next', async () => {
    let calls = 0;
    const apply = coalescing(async () => {
      calls++;
      if (calls === 1) throw new Error('nft failed');
    });
    await expect(apply()).rejects.toThrow('nft failed');
    await apply();
    expect(calls).toBe(2);
  });
});
