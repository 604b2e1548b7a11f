import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { decide, expiresAt, LeaderElector, observe, recordOf, type LeaderElectionRecord } from '../../src/kube/leader.ts';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const WALL = new Date('2030-01-01T00:01:00.000Z');

const held = (holderIdentity: string, overrides: Partial<LeaderElectionRecord> = {}): LeaderElectionRecord => ({
  holderIdentity,
  leaseDurationSeconds: 15,
  acquireTime: T0,
  renewTime: T0,
  leaseTransitions: 3,
  ...overrides,
});

const base = { identity: 'me', leaseDurationSeconds: 15, wallNow: WALL };

describe('decide (client-go tryAcquireOrRenew without I/O)', () => {
  it('creates a missing lease held by us with no transitions', () => {
    const { decision } = decide({ ...base, current: undefined, previous: undefined, now: 1000 });
    expect(decision).toEqual({
      action: 'create',
      record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: WALL, renewTime: WALL, leaseTransitions: 0 },
    });
  });

  it('waits on a lease held by another candidate that it has just seen, whatever its renewTime says', () => {
    // renewTime an hour old by our clock: remote clocks are not trusted, so it still gets a full lease duration.
    const stale = held('other', { renewTime: new Date(WALL.getTime() - 3_600_000) });
    const { decision, observed } = decide({ ...base, current: stale, previous: undefined, now: 5000 });
    expect(decision).toEqual({ action: 'wait', holder: 'other', expiresInMs: 15_000 });
    expect(observed).toEqual({ record: stale, observedAt: 5000 });
  });

  it('takes over once the record has stayed unchanged for the lease duration by the local clock', () => {
    const record = held('other');
    const { observed } = decide({ ...base, current: record, previous: undefined, now: 1000 });
    // Re-read equal records (a fresh object each time, as from the API) do not restart the clock.
    const almost = decide({ ...base, current: { ...record }, previous: observed, now: 15_999 });
    expect(almost.decision).toMatchObject({ action: 'wait', expiresInMs: 1 });
    expect(almost.observed?.observedAt).toBe(1000);
    const expired = decide({ ...base, current: { ...record }, previous: almost.observed, now: 16_000 });
    expect(expired.decision).toEqual({
      action: 'update',
      acquiring: true,
      record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: WALL, renewTime: WALL, leaseTransitions: 4 },
    });
  });

  it('restarts the expiry clock whenever the holder renews', () => {
    const first = decide({ ...base, current: held('other'), previous: undefined, now: 0 });
    const renewed = held('other', { renewTime: new Date(T0.getTime() + 2000) });
    const second = decide({ ...base, current: renewed, previous: first.observed, now: 14_000 });
    expect(second.observed?.observedAt).toBe(14_000);
    expect(decide({ ...base, current: renewed, previous: second.observed, now: 20_000 }).decision).toMatchObject({ action: 'wait', expiresInMs: 9000 });
  });

  it("uses the lease's own leaseDurationSeconds, not ours, to judge expiry", () => {
    const short = held('other', { leaseDurationSeconds: 2 });
    const first = decide({ ...base, current: short, previous: undefined, now: 0 });
    expect(first.decision).toMatchObject({ action: 'wait', expiresInMs: 2000 });
    expect(decide({ ...base, current: short, previous: first.observed, now: 2000 }).decision).toMatchObject({ action: 'update', acquiring: true });
  });

  it('acquires a released lease (empty holder) at once and counts the transition', () => {
    const released = held('', { leaseDurationSeconds: 1 });
    const { decision } = decide({ ...base, current: released, previous: undefined, now: 0 });
    expect(decision).toMatchObject({ action: 'update', acquiring: true, record: { holderIdentity: 'me', leaseTransitions: 4, leaseDurationSeconds: 15 } });
  });

  it('renews its own lease keeping acquireTime and leaseTransitions, even before it expires', () => {
    const mine = held('me', { leaseDurationSeconds: 10 });
    const { decision } = decide({ ...base, current: mine, previous: undefined, now: 0 });
    expect(decision).toEqual({
      action: 'update',
      acquiring: false,
      record: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: T0, renewTime: WALL, leaseTransitions: 3 },
    });
  });
});

describe('observe / expiresAt', () => {
  it('keeps the first observation time while the record is unchanged', () => {
    const first = observe(undefined, held('a'), 100);
    expect(observe(first, held('a'), 900)).toBe(first);
    expect(observe(first, held('a', { leaseTransitions: 4 }), 900).observedAt).toBe(900);
    expect(expiresAt(first)).toBe(15_100);
  });
});

describe('recordOf', () => {
  it('reads MicroTime strings as the API returns them, and defaults missing fields', () => {
    const record = recordOf({
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 2, renewTime: '2030-01-01T00:00:01.123456Z' as unknown as Date },
    });
    expect(record).toEqual({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 2, acquireTime: undefined, renewTime: new Date('2030-01-01T00:00:01.123Z') });
    expect(recordOf({})).toEqual({ holderIdentity: '', leaseDurationSeconds: 0, leaseTransitions: 0, acquireTime: undefined, renewTime: undefined });
  });
});

describe('LeaderElector configuration', () => {
  const kubeconfig = new KubeConfig();
  kubeconfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const callbacks = { onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
  const make = (overrides: Record<string, unknown>) => new LeaderElector({ kubeconfig, namespace: 'ns', name: 'lease', identity: 'me', ...overrides }, callbacks);

  it('uses client-go defaults and starts as a follower', () => {
    expect(make({}).isLeader).toBe(false);
  });

  it.each([
    [{ identity: '' }, /identity must not be empty/],
    [{ leaseDurationMs: 1500 }, /whole number of seconds/],
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }, /leaseDurationMs \(10000\) must be greater than renewDeadlineMs/],
    [{ renewDeadlineMs: 2400, retryPeriodMs: 2000 }, /must be greater than 1.2 × retryPeriodMs/],
    [{ retryPeriodMs: 0 }, /retryPeriodMs must be positive/],
  ])('rejects %o', (overrides, message) => {
    expect(() => make(overrides)).toThrow(message);
  });

  it('stop() before run() makes run() return at once without touching the API', async () => {
    const elector = make({});
    await elector.stop();
    await expect(elector.run()).resolves.toBeUndefined();
    expect(elector.isLeader).toBe(false);
  });
});
