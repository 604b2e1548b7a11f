import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, WorkQueue, type ReconcileResult } from '../../src/kube/workqueue.ts';

/** A promise with its resolve handle, to hold a handler in flight. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets queued handler promises settle without moving the fake clock. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('WorkQueue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('processes a key added several times once', async () => {
    const calls: string[] = [];
    const queue = new WorkQueue(async (key) => void calls.push(key), { name: 't', concurrency: 2 });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.depth).toBe(2);
    queue.start();
    await queue.idle();
    expect(calls.sort()).toEqual(['a', 'b']);
    expect(queue.depth).toBe(0);
    expect(queue.inFlight).toBe(0);
  });

  it('never runs one key twice at once and runs it again when added during processing', async () => {
    const gates: ReturnType<typeof deferred>[] = [];
    let active = 0;
    let maxActive = 0;
    let calls = 0;
    const queue = new WorkQueue(
      async () => {
        calls++;
        active++;
        maxActive = Math.max(maxActive, active);
        const gate = deferred();
        gates.push(gate);
        await gate.promise;
        active--;
      },
      { name: 't', concurrency: 4 },
    );
    queue.start();
    queue.add('a');
    await settle();
    expect(calls).toBe(1);
    queue.add('a');
    queue.add('a');
    await settle();
    expect(calls).toBe(1); // the second add waits for the first run
    expect(queue.inFlight).toBe(1);
    expect(queue.depth).toBe(0);
    gates[0]!.resolve();
    await settle();
    expect(calls).toBe(2); // ...and is processed once after it
    gates[1]!.resolve();
    await queue.idle();
    expect(calls).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    let active = 0;
    let maxActive = 0;
    const queue = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 10));
        active--;
      },
      { name: 't', concurrency: 3 },
    );
    for (let i = 0; i < 10; i++) queue.add(`k${i}`);
    queue.start();
    await settle();
    expect(queue.inFlight).toBe(3);
    expect(queue.depth).toBe(7);
    await vi.advanceTimersByTimeAsync(100);
    await queue.idle();
    expect(maxActive).toBe(3);
  });

  it('retries failures with exponential backoff, jitter and a cap', async () => {
    const delays: number[] = [];
    let calls = 0;
    const queue = new WorkQueue(
      async () => {
        calls++;
        throw new Error('boom');
      },
      { name: 't', concurrency: 1, baseDelayMs: 100, maxDelayMs: 1000 },
      { onRetry: (_key, delayMs) => delays.push(delayMs) },
    );
    queue.start();
    queue.add('a');
    await settle();
    for (let i = 0; i < 7; i++) await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(delays.length);
    expect(delays.length).toBeGreaterThanOrEqual(6);
    const expected = [100, 200, 400, 800, 1000, 1000];
    expected.forEach((nominal, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(Math.floor(nominal * 0.9));
      expect(delays[i]).toBeLessThanOrEqual(Math.min(Math.ceil(nominal * 1.1), 1000));
    });
    await queue.stop();
  });

  it('does not retry a PermanentError until the key is added again', async () => {
    let calls = 0;
    const onRetry = vi.fn();
    const errors: unknown[] = [];
    const queue = new WorkQueue(
      async () => {
        calls++;
        throw new PermanentError('bad annotation');
      },
      { name: 't', concurrency: 1, baseDelayMs: 10 },
      { onRetry, onProcessed: (_key, _wait, _duration, error) => errors.push(error) },
    );
    queue.start();
    queue.add('a');
    await settle();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(errors[0]).toBeInstanceOf(PermanentError);
    queue.add('a');
    await queue.idle();
    expect(calls).toBe(2);
  });

  it('requeues after the requested delay without counting a failure', async () => {
    const results: (ReconcileResult | Error)[] = [new Error('first'), { requeueAfterMs: 500 }, new Error('second'), undefined];
    const delays: number[] = [];
    let calls = 0;
    const queue = new WorkQueue(
      async () => {
        const result = results[calls++];
        if (result instanceof Error) throw result;
        return result;
      },
      { name: 't', concurrency: 1, baseDelayMs: 100 },
      { onRetry: (_key, delayMs) => delays.push(delayMs) },
    );
    queue.start();
    queue.add('a');
    await settle();
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(120); // first failure: ~100 ms
    expect(calls).toBe(2); // returned requeueAfterMs: 500
    await vi.advanceTimersByTimeAsync(450);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toBe(3);
    // The requeue reset the failure count: the second failure backs off from the base again.
    expect(delays).toHaveLength(2);
    expect(delays[1]).toBeLessThanOrEqual(110);
    await vi.advanceTimersByTimeAsync(120);
    expect(calls).toBe(4);
    await queue.stop();
  });

  it('keeps the earliest time when a key is added after a delay twice', async () => {
    const handler = vi.fn(async () => undefined);
    const queue = new WorkQueue(handler, { name: 't', concurrency: 1 });
    queue.start();
    queue.addAfter('a', 1000);
    queue.addAfter('a', 5000);
    queue.addAfter('a', 300);
    expect(queue.depth).toBe(0);
    await vi.advanceTimersByTimeAsync(299);
    expect(handler).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2);
    expect(handler).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('batches: a burst of addBatched costs one run, the period after the first call, and idle() waits for it', async () => {
    const handler = vi.fn(async (_key: string) => undefined);
    const queue = new WorkQueue(handler, { name: 't', concurrency: 1 });
    queue.start();
    let idle = false;
    queue.addBatched('a', 200);
    void queue.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(150);
    queue.addBatched('a', 200);
    queue.addBatched('b', 200);
    expect(handler).not.toHaveBeenCalled();
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(51);
    // 'a' runs 200 ms after its first change, not after its last.
    expect(handler.mock.calls.map(([key]) => key)).toEqual(['a']);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(150);
    expect(handler.mock.calls.map(([key]) => key)).toEqual(['a', 'b']);
    expect(idle).toBe(true);
    // A period of 0, or a key already queued, needs no timer.
    queue.addBatched('c', 0);
    await settle();
    expect(handler).toHaveBeenCalledTimes(3);
    await queue.stop();
  });

  it('stop() drops keys still gathering a batch', async () => {
    const handler = vi.fn(async () => undefined);
    const queue = new WorkQueue(handler, { name: 't', concurrency: 1 });
    queue.start();
    queue.addBatched('a', 200);
    await queue.stop();
    await vi.advanceTimersByTimeAsync(500);
    expect(handler).not.toHaveBeenCalled();
  });

  it('unrefs its timers', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const queue = new WorkQueue(async () => undefined, { name: 't', concurrency: 1 });
    queue.addAfter('a', 1000);
    const timer = spy.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    spy.mockRestore();
  });

  it('forget() resets the backoff of a key', async () => {
    const delays: number[] = [];
    const queue = new WorkQueue(
      async () => {
        throw new Error('boom');
      },
      { name: 't', concurrency: 1, baseDelayMs: 100, maxDelayMs: 100_000 },
      { onRetry: (_key, delayMs) => delays.push(delayMs) },
    );
    queue.start();
    queue.add('a');
    await settle();
    await vi.advanceTimersByTimeAsync(110 + 220);
    expect(delays).toHaveLength(3); // ~100, ~200, ~400
    queue.forget('a');
    queue.add('a');
    await settle();
    expect(delays).toHaveLength(4);
    expect(delays[3]).toBeLessThanOrEqual(110);
    await queue.stop();
  });

  it('stop() waits for in-flight handlers, takes no more work and clears its timers', async () => {
    const gate = deferred();
    const calls: string[] = [];
    const queue = new WorkQueue(
      async (key) => {
        calls.push(key);
        if (key === 'a') await gate.promise;
      },
      { name: 't', concurrency: 1 },
    );
    queue.start();
    queue.add('a');
    queue.add('b');
    queue.addAfter('c', 1000);
    await settle();
    let stopped = false;
    const stopping = queue.stop().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect(calls).toEqual(['a']);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toEqual(['a']);
    // Work added while stopped waits for start().
    queue.start();
    await queue.idle();
    expect(calls).toEqual(['a', 'b']);
  });

  it('reports adds and processing times to the observer, and survives a throwing observer', async () => {
    const added: string[] = [];
    const processed: { key: string; waitMs: number; durationMs: number; error: unknown }[] = [];
    const queue = new WorkQueue(
      async (key) => {
        await new Promise((resolve) => setTimeout(resolve, 50));
        if (key === 'bad') throw new Error('x');
      },
      { name: 't', concurrency: 1, baseDelayMs: 60_000 },
      {
        onAdd: (key) => {
          added.push(key);
          throw new Error('observer bug');
        },
        onProcessed: (key, waitMs, durationMs, error) => processed.push({ key, waitMs, durationMs, error }),
      },
    );
    queue.add('ok');
    queue.add('ok');
    queue.add('bad');
    queue.start();
    await vi.advanceTimersByTimeAsync(200);
    await queue.idle();
    expect(added).toEqual(['ok', 'bad']);
    expect(processed.map((p) => p.key)).toEqual(['ok', 'bad']);
    expect(processed[0]!.error).toBeUndefined();
    expect(processed[1]!.error).toBeInstanceOf(Error);
    expect(processed[0]!.durationMs).toBeGreaterThanOrEqual(45);
    expect(processed[1]!.waitMs).toBeGreaterThanOrEqual(45); // waited behind 'ok'
    await queue.stop();
  });

  it('rejects a concurrency below 1', () => {
    expect(() => new WorkQueue(async () => undefined, { name: 't', concurrency: 0 })).toThrow(/concurrency/);
  });
});
