import { startFaultyProxy, throughProxy } from './support/faulty-proxy.ts';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaderElector, recordOf } from '../../src/kube/leader.ts';
import { connect, createTestNamespace, uniqueName, waitFor, type TestEnvironment } from '../../src/testing/index.ts';

const describeError = (error: unknown): string => (error instanceof Error ? ` (${error.message.split('\n')[0]})` : '');

// Short durations, as in the brief: lease 3 s, renew deadline 2 s, retry 0.5 s.
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

interface Candidate {
  identity: string;
  elector: LeaderElector;
  started: number[];
  stopped: number[];
  leaders: string[];
  running: Promise<void>;
}


describe('Lease leader election against the real apiserver', () => {
  let env: TestEnvironment;
  let namespace: { name: string; remove: () => Promise<void> };
  const candidates: Candidate[] = [];
  /** The electors' logs, printed when a test fails (timing failures are hard to read otherwise). */
  let logs: string[] = [];

  beforeEach((context) => {
    logs = [];
    context.onTestFailed(() => console.log(`leader election logs:\n${logs.join('\n')}`));
  });

  beforeAll(async () => {
    env = connect();
    namespace = await createTestNamespace(env.core, 'leader');
  });

  afterAll(async () => {
    await Promise.all(candidates.map((c) => c.elector.stop()));
    await namespace?.remove();
    env?.close();
  });

  function candidate(identity: string, lease: string, kubeconfig = env.kubeconfig): Candidate {
    const started: number[] = [];
    const stopped: number[] = [];
    const leaders: string[] = [];
    const elector = new LeaderElector(
      {
        kubeconfig,
        namespace: namespace.name,
        name: lease,
        identity,
        ...TIMING,
        log: (msg, fields) => logs.push(`${performance.now().toFixed(0)} ${identity}: ${msg}${describeError(fields?.err)}`),
      },
      {
        onStartedLeading: () => void started.push(performance.now()),
        onStoppedLeading: () => void stopped.push(performance.now()),
        onNewLeader: (leader) => void leaders.push(leader),
      },
    );
    const entry = { identity, elector, started, stopped, leaders, running: elector.run() };
    candidates.push(entry);
    return entry;
  }

  const readLease = async (lease: string) => recordOf(await env.coordination.readNamespacedLease({ namespace: namespace.name, name: lease }));
  const leaderOf = (group: Candidate[]) => group.filter((c) => c.elector.isLeader);

  it('elects exactly one leader; a stopped leader is replaced after the lease expires, a released one promptly', async () => {
    const lease = uniqueName('lease');
    const a = candidate('a', lease);
    const b = candidate('b', lease);

    const [first] = await waitFor(() => leaderOf([a, b]).length > 0 && leaderOf([a, b]), { timeoutMs: 10_000, description: 'a leader' });
    if (!first) throw new Error('unreachable');
    const second = first === a ? b : a;
    // Never two leaders, over more than a lease duration of renewals.
    for (let i = 0; i < 40; i++) {
      expect(leaderOf([a, b])).toEqual([first]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await readLease(lease)).toMatchObject({ holderIdentity: first.identity, leaseDurationSeconds: 3, leaseTransitions: 0 });
    expect(second.leaders).toEqual([first.identity]);
    expect(first.started).toHaveLength(1);

    // Stop without release: the other waits out the lease, judged by its own clock.
    const stoppedAt = performance.now();
    await first.elector.stop({ release: false });
    expect(first.elector.isLeader).toBe(false);
    expect(first.stopped).toHaveLength(1);
    expect((await readLease(lease)).holderIdentity).toBe(first.identity);
    await waitFor(() => second.elector.isLeader, { timeoutMs: 15_000, intervalMs: 50, description: `${second.identity} to take over` });
    const takeoverMs = (second.started[0] ?? Infinity) - stoppedAt;
    // The last renewal was at most a retry period before stop(); the lease lasts 3 s after the follower saw it.
    expect(takeoverMs).toBeGreaterThan(TIMING.leaseDurationMs - TIMING.retryPeriodMs - 300);
    expect(takeoverMs).toBeLessThan(TIMING.leaseDurationMs + 4000);
    const afterFailover = await readLease(lease);
    expect(afterFailover).toMatchObject({ holderIdentity: second.identity, leaseTransitions: 1 });

    // A third candidate sees the new leader; with release it takes over well inside a lease duration.
    const c = candidate('c', lease);
    await waitFor(() => c.leaders.includes(second.identity), { timeoutMs: 10_000, description: 'c to observe the leader' });
    expect(c.elector.isLeader).toBe(false);
    const releasedAt = performance.now();
    await second.elector.stop();
    expect(second.stopped).toHaveLength(1);
    await waitFor(() => c.elector.isLeader, { timeoutMs: 10_000, intervalMs: 50, description: 'c to take over the released lease' });
    const promptMs = (c.started[0] ?? Infinity) - releasedAt;
    // c polls every 0.5–1.1 s (jittered retry period); it does not wait for the lease to expire.
    expect(promptMs).toBeLessThan(TIMING.leaseDurationMs - 500);
    expect(await readLease(lease)).toMatchObject({ holderIdentity: 'c', leaseDurationSeconds: 3, leaseTransitions: 2 });
    expect(c.leaders).toEqual([second.identity, 'c']);

    // Final release leaves an empty holder for whoever comes next.
    await c.elector.stop();
    expect(await readLease(lease)).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 2 });
    await Promise.all([a.running, b.running, c.running]);
  });

  it('stops leading once it cannot renew within the renew deadline, before anyone else takes over', async () => {
    const lease = uniqueName('lease');
    const proxy = await startFaultyProxy(new URL(env.kubeconfig.getCurrentCluster()!.server));
    try {
      const partitioned = candidate('partitioned', lease, throughProxy(env.kubeconfig, proxy.url));
      await waitFor(() => partitioned.elector.isLeader, { timeoutMs: 10_000, description: 'the proxied candidate to lead' });
      const other = candidate('other', lease);
      await waitFor(() => other.leaders.includes('partitioned'), { timeoutMs: 10_000, description: 'the other to observe the leader' });

      const cutAt = performance.now();
      proxy.partition();
      await waitFor(() => partitioned.stopped.length > 0, { timeoutMs: 10_000, intervalMs: 50, description: 'the partitioned leader to give up' });
      const gaveUpMs = (partitioned.stopped[0] ?? Infinity) - cutAt;
      // Within renewDeadline of its last renewal (which was at most a retry period before the cut), plus slack.
      expect(gaveUpMs).toBeLessThan(TIMING.renewDeadlineMs + 1000);
      expect(partitioned.elector.isLeader).toBe(false);

      await waitFor(() => other.elector.isLeader, { timeoutMs: 15_000, intervalMs: 50, description: 'the other to take over' });
      // No overlap: the old leader had stopped before the new one started.
      expect(partitioned.stopped[0]).toBeLessThan(other.started[0] ?? -Infinity);
      expect(await readLease(lease)).toMatchObject({ holderIdentity: 'other', leaseTransitions: 1 });

      // Back on the network it campaigns again, sees the new leader and stays a follower.
      proxy.heal();
      await waitFor(() => partitioned.leaders.includes('other'), { timeoutMs: 15_000, description: 'the healed candidate to observe the new leader' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(partitioned.elector.isLeader).toBe(false);
      expect(partitioned.started).toHaveLength(1);
      expect(partitioned.stopped).toHaveLength(1);
      expect(other.elector.isLeader).toBe(true);

      await partitioned.elector.stop();
      await other.elector.stop();
      expect(other.stopped).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});
