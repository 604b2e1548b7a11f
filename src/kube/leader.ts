/**
 * Lease-based leader election (coordination.k8s.io/v1) with client-go's semantics and defaults
 * (k8s.io/client-go/tools/leaderelection): leaseDuration 15 s, renewDeadline 10 s, retryPeriod 2 s.
 *
 * Written here because no maintained npm package does this well: @kubernetes/client-node 2.x ships no leader
 * election, and we found no maintained package with client-go's guarantees (expiry judged by the local clock,
 * a renew deadline that ends leadership before the lease can expire elsewhere, release on shutdown).
 *
 * Expiry follows client-go: a candidate never compares the lease's renewTime with its own clock (clocks differ
 * between machines). It remembers when, by its own monotonic clock, it last saw the record (holder, renewTime,
 * leaseDurationSeconds, ...) change, and treats the lease as expired once the record has stayed unchanged for
 * the lease's own leaseDurationSeconds. The holder renews every retryPeriod and gives up after renewDeadline
 * without a successful renewal, which is before any other candidate can consider the lease expired.
 */
import { CoordinationV1Api, Observable, V1MicroTime, type ConfigurationOptions, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { setTimeout as sleep } from 'node:timers/promises';
import { isConflict, isNotFound } from './objects.ts';

export interface LeaderElectionConfig {
  kubeconfig: KubeConfig;
  /** Namespace and name of the Lease. */
  namespace: string;
  name: string;
  /** Unique per candidate (e.g. pod name plus a random suffix); two candidates with one identity would both lead. */
  identity: string;
  /** How long others wait before taking over a lease that stopped being renewed (default 15 000; whole seconds). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading (default 10 000). */
  renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews (default 2 000). */
  retryPeriodMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export interface LeaderCallbacks {
  /** Called when this candidate becomes leader. Not awaited: renewals go on while it runs. */
  onStartedLeading(): void | Promise<void>;
  /** Called exactly once per leadership term: when renewal failed for renewDeadline, the lease was taken, or on stop(). */
  onStoppedLeading(): void;
  /** Called when the observed holder changes to another non-empty identity (this candidate's own included). */
  onNewLeader?(identity: string): void;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: candidates wait retryPeriod × [1, 2.2) between attempts to acquire. */
export const JITTER_FACTOR = 1.2;

/** The fields of a Lease's spec that leader election reads and writes (client-go's LeaderElectionRecord). */
export interface LeaderElectionRecord {
  /** Empty when nobody holds the lease (never acquired, or released). */
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date | undefined;
  renewTime: Date | undefined;
  leaseTransitions: number;
}

/** A record together with the local monotonic time (ms) at which it was first seen in this exact form. */
export interface ObservedRecord {
  record: LeaderElectionRecord;
  observedAt: number;
}

export type Decision =
  /** No Lease exists: create one held by us. */
  | { action: 'create'; record: LeaderElectionRecord }
  /** Write this record (renewing our lease, or taking over an expired/released one) with optimistic concurrency. */
  | { action: 'update'; record: LeaderElectionRecord; acquiring: boolean }
  /** Someone else holds a lease that has not expired by our clock. */
  | { action: 'wait'; holder: string; expiresInMs: number };

export interface DecideInput {
  identity: string;
  /** What we will write as leaseDurationSeconds. */
  leaseDurationSeconds: number;
  /** The record just read; undefined when the Lease does not exist. */
  current: LeaderElectionRecord | undefined;
  /** What we had observed before this read. */
  previous: ObservedRecord | undefined;
  /** Local monotonic clock (ms), e.g. performance.now(). */
  now: number;
  /** Wall-clock time written into acquireTime/renewTime (informational for other readers). */
  wallNow: Date;
}

export function sameRecord(a: LeaderElectionRecord, b: LeaderElectionRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime?.getTime() === b.acquireTime?.getTime() &&
    a.renewTime?.getTime() === b.renewTime?.getTime()
  );
}

/** Keeps the earlier observation time while the record is unchanged; any change (a renewal) restarts the clock. */
export function observe(previous: ObservedRecord | undefined, current: LeaderElectionRecord, now: number): ObservedRecord {
  if (previous && sameRecord(previous.record, current)) return previous;
  return { record: current, observedAt: now };
}

/** When (local monotonic ms) the observed lease expires: leaseDurationSeconds after we saw it last change. */
export const expiresAt = (observed: ObservedRecord): number => observed.observedAt + observed.record.leaseDurationSeconds * 1000;

/**
 * client-go's tryAcquireOrRenew decision, without I/O: given the Lease just read, whether to create it, write it
 * (renew or take over) or leave it to its holder, and the observation to remember.
 */
export function decide(input: DecideInput): { decision: Decision; observed: ObservedRecord | undefined } {
  const { identity, leaseDurationSeconds, current, previous, now, wallNow } = input;
  if (!current) {
    const record = { holderIdentity: identity, leaseDurationSeconds, acquireTime: wallNow, renewTime: wallNow, leaseTransitions: 0 };
    return { decision: { action: 'create', record }, observed: previous };
  }
  const observed = observe(previous, current, now);
  const holder = current.holderIdentity;
  if (holder !== '' && holder !== identity && now < expiresAt(observed)) {
    return { decision: { action: 'wait', holder, expiresInMs: expiresAt(observed) - now }, observed };
  }
  const renewing = holder === identity;
  const record: LeaderElectionRecord = {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing ? (current.acquireTime ?? wallNow) : wallNow,
    renewTime: wallNow,
    leaseTransitions: renewing ? current.leaseTransitions : current.leaseTransitions + 1,
  };
  return { decision: { action: 'update', record, acquiring: !renewing }, observed };
}

/** Reads the record from a Lease; client-node leaves MicroTime fields as strings when deserializing. */
export function recordOf(lease: V1Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: toDate(spec.acquireTime),
    renewTime: toDate(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
}

function toDate(value: unknown): Date | undefined {
  if (!(value instanceof Date) && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** MicroTime must be written with six fractional digits or the apiserver rejects it; V1MicroTime does that. */
function specOf(record: LeaderElectionRecord, base: V1Lease['spec'] = {}): NonNullable<V1Lease['spec']> {
  return {
    ...base,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: record.acquireTime ? new V1MicroTime(record.acquireTime.getTime()) : undefined,
    renewTime: record.renewTime ? new V1MicroTime(record.renewTime.getTime()) : undefined,
    leaseTransitions: record.leaseTransitions,
  };
}

/** Per-request options that make a hung request give up (client-node 2.x has no timeout of its own). */
function withSignal(signal: AbortSignal): ConfigurationOptions {
  return {
    middleware: [
      {
        pre: (request) => {
          request.setSignal(signal);
          return new Observable(Promise.resolve(request));
        },
        post: (response) => new Observable(Promise.resolve(response)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

export class LeaderElector {
  readonly #config: LeaderElectionConfig;
  readonly #callbacks: LeaderCallbacks;
  readonly #api: CoordinationV1Api;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #log: (msg: string, fields?: Record<string, unknown>) => void;
  readonly #stopController = new AbortController();

  /** The Lease as last read or written by us: its resourceVersion guards our next write. */
  #lease: V1Lease | undefined;
  #observed: ObservedRecord | undefined;
  #reportedLeader = '';
  #leading = false;
  /** Monotonic time at which our last successful write was sent (the lease is fresh from then on at the latest). */
  #renewedAt = 0;
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #stopped = false;

  constructor(config: LeaderElectionConfig, callbacks: LeaderCallbacks) {
    const leaseDurationMs = config.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    const renewDeadlineMs = config.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    const retryPeriodMs = config.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    const where = `leader election ${config.namespace}/${config.name}`;
    // The same checks as client-go's NewLeaderElector, plus whole seconds: the Lease stores leaseDurationSeconds.
    if (!config.identity) throw new Error(`${where}: identity must not be empty`);
    if (!config.namespace || !config.name) throw new Error(`${where}: namespace and name must not be empty`);
    if (!Number.isInteger(leaseDurationMs / 1000) || leaseDurationMs < 1000) {
      throw new Error(`${where}: leaseDurationMs must be a whole number of seconds (at least 1000), got ${leaseDurationMs}`);
    }
    if (!(retryPeriodMs > 0)) throw new Error(`${where}: retryPeriodMs must be positive, got ${retryPeriodMs}`);
    if (!(leaseDurationMs > renewDeadlineMs)) {
      throw new Error(`${where}: leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`);
    }
    if (!(renewDeadlineMs > JITTER_FACTOR * retryPeriodMs)) {
      throw new Error(`${where}: renewDeadlineMs (${renewDeadlineMs}) must be greater than ${JITTER_FACTOR} × retryPeriodMs (${retryPeriodMs})`);
    }
    this.#config = config;
    this.#callbacks = callbacks;
    this.#api = config.kubeconfig.makeApiClient(CoordinationV1Api);
    this.#leaseDurationMs = leaseDurationMs;
    this.#renewDeadlineMs = renewDeadlineMs;
    this.#retryPeriodMs = retryPeriodMs;
    const log = config.log ?? (() => undefined);
    // A throwing logger must not break the election loop.
    this.#log = (msg, fields) => {
      try {
        log(msg, { lease: `${config.namespace}/${config.name}`, identity: config.identity, ...fields });
      } catch {
        // nothing left to report to
      }
    };
  }

  /**
   * True while leading and the last successful renewal is less than renewDeadline old, so a stalled renew loop
   * never reports leadership it may already have lost.
   */
  get isLeader(): boolean {
    return this.#leading && performance.now() - this.#renewedAt < this.#renewDeadlineMs;
  }

  /**
   * Campaigns, leads, and campaigns again after losing the lease, until stop(). Never rejects; API errors are
   * logged and retried. Can be run once per elector.
   */
  run(): Promise<void> {
    if (this.#running) throw new Error(`leader election ${this.#config.namespace}/${this.#config.name}: run() called twice`);
    this.#running = this.#loop();
    return this.#running;
  }

  /**
   * Stops campaigning and renewing, calls onStoppedLeading if leading, and (release, the default) clears the
   * holder so another candidate takes over at once, like client-go's ReleaseOnCancel. As there, the work the
   * lease guards should be stopped before releasing, or two processes may briefly both do it.
   */
  stop(options: { release?: boolean } = {}): Promise<void> {
    // A second call waits for the first one (including its release) rather than doing anything itself.
    this.#stopping ??= this.#stop(options.release ?? true);
    return this.#stopping;
  }

  async #stop(release: boolean): Promise<void> {
    this.#stopped = true;
    this.#stopController.abort();
    await this.#running;
    const wasLeading = this.#leading;
    this.#stopLeading('stopped');
    if (release && wasLeading) await this.#release();
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      if (!(await this.#acquire())) return;
      this.#startLeading();
      await this.#renew();
    }
  }

  /** Tries every retryPeriod (jittered, as client-go) until the lease is ours; false when stopped first. */
  async #acquire(): Promise<boolean> {
    this.#log('campaigning for the lease');
    while (!this.#stopped) {
      if (await this.#tryAcquireOrRenew(this.#renewDeadlineMs)) return true;
      await this.#sleep(this.#retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
    }
    return false;
  }

  /** Renews every retryPeriod; returns when stopped or when leadership was lost. */
  async #renew(): Promise<void> {
    while (!this.#stopped && this.#leading) {
      // Wake at the deadline at the latest, so leadership ends on time even after a quick failure.
      await this.#sleep(Math.max(0, Math.min(this.#retryPeriodMs, this.#renewedAt + this.#renewDeadlineMs - performance.now())));
      if (this.#stopped) return;
      const remainingMs = this.#renewedAt + this.#renewDeadlineMs - performance.now();
      const renewed = remainingMs > 0 && (await this.#tryAcquireOrRenew(remainingMs));
      if (this.#stopped) return;
      if (renewed) continue;
      const holder = this.#observed?.record.holderIdentity;
      if (holder !== undefined && holder !== this.#config.identity) {
        // Someone else has taken the lease: waiting out renewDeadline would only prolong two leaders.
        this.#stopLeading('lease taken', { holder });
      } else if (performance.now() - this.#renewedAt >= this.#renewDeadlineMs) {
        this.#stopLeading('failed to renew within the renew deadline', { renewDeadlineMs: this.#renewDeadlineMs });
      }
    }
  }

  /** One attempt, bounded by timeoutMs overall; true when we hold the lease afterwards. */
  async #tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = performance.now();
    const signal = AbortSignal.any([this.#stopController.signal, AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)))]);
    const options = withSignal(signal);
    const identity = this.#config.identity;
    const leaseDurationSeconds = this.#leaseDurationMs / 1000;

    // Fast path (client-go): the leader writes on top of the Lease it last wrote; a conflict means re-read.
    if (this.#leading && this.#lease && this.#observed && this.#observed.record.holderIdentity === identity && now < expiresAt(this.#observed)) {
      const record = { ...this.#observed.record, leaseDurationSeconds, renewTime: new Date() };
      try {
        await this.#write(record, options);
        return true;
      } catch (error) {
        if (signal.aborted) return this.#failed('renewal timed out or was stopped', error);
        this.#log('optimistic renewal failed; re-reading the lease', { err: error });
      }
    }

    let current: V1Lease | undefined;
    try {
      current = await this.#api.readNamespacedLease({ namespace: this.#config.namespace, name: this.#config.name }, options);
    } catch (error) {
      if (!isNotFound(error)) return this.#failed('error reading the lease', error);
    }
    const { decision, observed } = decide({
      identity,
      leaseDurationSeconds,
      current: current ? recordOf(current) : undefined,
      previous: this.#observed,
      // Observed when the read returned, not when it was sent: a renewal it shows may be newer than the send.
      now: performance.now(),
      wallNow: new Date(),
    });
    this.#lease = current;
    this.#observed = observed;
    this.#reportLeader();

    try {
      switch (decision.action) {
        case 'wait':
          return false;
        case 'create': {
          const metadata = { name: this.#config.name, namespace: this.#config.namespace };
          const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec: specOf(decision.record) };
          const sentAt = performance.now();
          this.#lease = await this.#api.createNamespacedLease({ namespace: this.#config.namespace, body }, options);
          this.#observed = { record: decision.record, observedAt: sentAt };
          this.#renewedAt = sentAt;
          break;
        }
        case 'update':
          await this.#write(decision.record, options);
          break;
      }
    } catch (error) {
      // A 409 is another candidate winning the race (or the holder renewing just now); the next attempt re-reads.
      if (isConflict(error)) return this.#failed(`lease changed concurrently; ${decision.action} not applied`, undefined);
      return this.#failed(`error ${decision.action === 'create' ? 'creating' : 'updating'} the lease`, error);
    }
    if (decision.action === 'create' || decision.acquiring) this.#log('acquired the lease', { leaseTransitions: decision.record.leaseTransitions });
    this.#reportLeader();
    return true;
  }

  /** Replaces the Lease we last saw with the record; its resourceVersion makes a concurrent change fail with 409. */
  async #write(record: LeaderElectionRecord, options: ConfigurationOptions): Promise<void> {
    const base = this.#lease;
    if (!base) throw new Error('no lease to update');
    const body: V1Lease = { ...base, spec: specOf(record, base.spec) };
    // Our own lease counts from when the write was sent, which is no later than others can have seen it.
    const sentAt = performance.now();
    this.#lease = await this.#api.replaceNamespacedLease({ namespace: this.#config.namespace, name: this.#config.name, body }, options);
    this.#observed = { record, observedAt: sentAt };
    this.#renewedAt = sentAt;
  }

  #failed(msg: string, error: unknown): false {
    if (!this.#stopped) this.#log(msg, error === undefined ? undefined : { err: error });
    return false;
  }

  /** client-go's release: holder cleared, leaseDurationSeconds 1, transitions kept; only over our own last write. */
  async #release(): Promise<void> {
    if (!this.#lease || this.#observed?.record.holderIdentity !== this.#config.identity) return;
    const wallNow = new Date();
    const record: LeaderElectionRecord = {
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: wallNow,
      renewTime: wallNow,
      leaseTransitions: this.#observed.record.leaseTransitions,
    };
    try {
      await this.#write(record, withSignal(AbortSignal.timeout(this.#renewDeadlineMs)));
      this.#log('released the lease');
    } catch (error) {
      this.#log('failed to release the lease (others take over when it expires)', { err: error });
    }
  }

  #startLeading(): void {
    this.#leading = true;
    this.#log('started leading');
    try {
      // Not awaited: a long start (informer sync) must not hold up renewals.
      void Promise.resolve(this.#callbacks.onStartedLeading()).catch((error: unknown) => this.#log('onStartedLeading failed', { err: error }));
    } catch (error) {
      this.#log('onStartedLeading failed', { err: error });
    }
  }

  #stopLeading(reason: string, fields?: Record<string, unknown>): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#log(`stopped leading: ${reason}`, fields);
    try {
      this.#callbacks.onStoppedLeading();
    } catch (error) {
      this.#log('onStoppedLeading failed', { err: error });
    }
  }

  #reportLeader(): void {
    const holder = this.#observed?.record.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === '') return;
    this.#log('new leader observed', { holder });
    try {
      this.#callbacks.onNewLeader?.(holder);
    } catch (error) {
      this.#log('onNewLeader failed', { err: error });
    }
  }

  async #sleep(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stopController.signal });
    } catch {
      // aborted by stop()
    }
  }
}
