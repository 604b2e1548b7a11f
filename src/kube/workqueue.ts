/**
 * A client-go style keyed work queue: keys are deduplicated, one key is never handled by two workers at once,
 * failures back off per key, and a handler can ask to be called again later.
 */

export type ReconcileResult = void | { requeueAfterMs: number };

/** A user error (bad annotation, invalid spec): retrying will not help until the object changes and is re-added. */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

export interface WorkQueueOptions {
  name: string;
  concurrency: number;
  /** First retry delay after a failure (default 1000 ms); doubles per consecutive failure. */
  baseDelayMs?: number;
  /** Upper bound of the retry delay (default 300 000 ms). */
  maxDelayMs?: number;
}

export interface WorkQueueObserver {
  /** A key became pending (not called for a key that was already pending). */
  onAdd?(key: string): void;
  onRetry?(key: string, delayMs: number, error: unknown): void;
  /** A handler finished; `waitMs` is how long the key waited in the queue before it started. */
  onProcessed?(key: string, waitMs: number, durationMs: number, error?: unknown): void;
}

const JITTER = 0.1;

export class WorkQueue {
  readonly #handler: (key: string) => Promise<ReconcileResult>;
  readonly #observer: WorkQueueObserver;
  readonly #concurrency: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly name: string;

  /** Keys waiting for a worker, in order. */
  #queue: string[] = [];
  /** Keys that need processing: those in #queue plus in-flight keys added again while being handled. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #addedAt = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  /** Keys gathering a burst of changes (addBatched): pending work, so idle() waits for them. */
  readonly #batching = new Map<string, NodeJS.Timeout>();
  readonly #failures = new Map<string, number>();
  readonly #running = new Set<Promise<void>>();
  #idleWaiters: (() => void)[] = [];
  #started = false;

  constructor(handler: (key: string) => Promise<ReconcileResult>, options: WorkQueueOptions, observer: WorkQueueObserver = {}) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`work queue ${options.name}: concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.#handler = handler;
    this.#observer = observer;
    this.name = options.name;
    this.#concurrency = options.concurrency;
    this.#baseDelayMs = options.baseDelayMs ?? 1000;
    this.#maxDelayMs = options.maxDelayMs ?? 300_000;
  }

  /** Keys waiting for a worker (not counting in-flight or delayed ones). */
  get depth(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#processing.size;
  }

  add(key: string): void {
    if (this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, performance.now());
    this.#notify(() => this.#observer.onAdd?.(key));
    // An in-flight key stays only in #dirty; #finish queues it again when its handler is done.
    if (!this.#processing.has(key)) {
      this.#queue.push(key);
      this.#pump();
    }
  }

  /** Adds the key after a delay; if it is already scheduled earlier, the earlier time wins. */
  addAfter(key: string, delayMs: number): void {
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.#delayed.get(key);
    if (existing) {
      if (existing.at <= at) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    // A pending retry must never keep the process alive on its own.
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  /**
   * Adds the key `delayMs` after the first of a burst of calls, so a burst of changes (pods becoming ready one by
   * one) costs one run, as kube-controller-manager's --endpoint-updates-batch-period does for EndpointSlices.
   * Unlike addAfter (a retry, a later look), this stands for a change that has happened: idle() waits for it.
   */
  addBatched(key: string, delayMs: number): void {
    if (delayMs <= 0 || this.#dirty.has(key)) {
      this.add(key);
      return;
    }
    if (this.#batching.has(key)) return;
    const timer = setTimeout(() => {
      this.#batching.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#batching.set(key, timer);
  }

  /** Resets the key's failure count, so its next failure starts again at the base delay. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#pump();
  }

  /** Stops taking work, drops pending delayed adds and waits for in-flight handlers. */
  async stop(): Promise<void> {
    this.#started = false;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    for (const timer of this.#batching.values()) clearTimeout(timer);
    this.#batching.clear();
    await Promise.all(this.#running);
  }

  /** Resolves once no key is queued, batching or in flight (keys waiting on an addAfter timer do not count). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#processing.size === 0 && this.#batching.size === 0;
  }

  #pump(): void {
    while (this.#started && this.#processing.size < this.#concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift() as string;
      this.#dirty.delete(key);
      this.#processing.add(key);
      const addedAt = this.#addedAt.get(key) ?? performance.now();
      this.#addedAt.delete(key);
      const run = this.#process(key, addedAt);
      this.#running.add(run);
      void run.finally(() => this.#running.delete(run));
    }
  }

  async #process(key: string, addedAt: number): Promise<void> {
    const startedAt = performance.now();
    let result: ReconcileResult = undefined;
    let error: unknown;
    let failed = false;
    try {
      result = await this.#handler(key);
    } catch (caught) {
      failed = true;
      error = caught;
    }
    const durationMs = performance.now() - startedAt;
    const waitMs = startedAt - addedAt;
    this.#notify(() =>
      failed ? this.#observer.onProcessed?.(key, waitMs, durationMs, error) : this.#observer.onProcessed?.(key, waitMs, durationMs),
    );

    if (!failed) {
      this.forget(key);
      if (result && result.requeueAfterMs >= 0 && this.#started) this.addAfter(key, result.requeueAfterMs);
    } else if (error instanceof PermanentError) {
      this.forget(key);
    } else {
      const failures = this.#failures.get(key) ?? 0;
      this.#failures.set(key, failures + 1);
      const delayMs = this.#backoff(failures);
      this.#notify(() => this.#observer.onRetry?.(key, delayMs, error));
      // After stop() no timers may be created; the key is dropped like other delayed work.
      if (this.#started) this.addAfter(key, delayMs);
    }
    this.#finish(key);
  }

  #backoff(failures: number): number {
    const exponential = Math.min(this.#baseDelayMs * 2 ** failures, this.#maxDelayMs);
    const jittered = exponential * (1 - JITTER + Math.random() * 2 * JITTER);
    return Math.round(Math.min(jittered, this.#maxDelayMs));
  }

  #finish(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) this.#queue.push(key);
    this.#pump();
    if (this.#isIdle() && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Observers are for metrics and logs; a throwing one must not break the queue. */
  #notify(call: () => void): void {
    try {
      call();
    } catch {
      // ignored on purpose
    }
  }
}
