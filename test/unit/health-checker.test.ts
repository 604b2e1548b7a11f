import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHealthChecks, type CheckedGroup } from '../../src/dataplane/health/checker.ts';
import type { Probe, ProbeResult, ProbeTarget } from '../../src/dataplane/health/probe.ts';
import { startReporter, type HealthPush } from '../../src/dataplane/health/report.ts';

const ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1';

describe('report: pushes to the emulator plugin', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('batches changes into one push at most every 250 ms, last state winning', async () => {
    const pushes: HealthPush[] = [];
    const reporter = startReporter({ emulatorEndpoint: 'http://e', snapshot: () => ({}), post: async (_url, body) => void pushes.push(body) });
    reporter.changed(ARN, 'a:1', { state: 'initial', reason: 'Elb.RegistrationInProgress' });
    reporter.changed(ARN, 'a:1', { state: 'healthy' });
    reporter.changed(ARN, 'b:1', { state: 'initial' });
    await vi.advanceTimersByTimeAsync(1);
    expect(pushes).toEqual([{ [ARN]: { 'a:1': { state: 'healthy' }, 'b:1': { state: 'initial' } } }]);
    reporter.changed(ARN, 'b:1', null);
    await vi.advanceTimersByTimeAsync(100);
    expect(pushes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(pushes[1]).toEqual({ [ARN]: { 'b:1': null } });
    await reporter.stop();
  });

  it('a failed push is retried, under what changed since', async () => {
    const pushes: HealthPush[] = [];
    let fail = true;
    const reporter = startReporter({
      emulatorEndpoint: 'http://e',
      snapshot: () => ({}),
      retryMs: 1000,
      post: async (_url, body) => {
        pushes.push(body);
        if (fail) throw new Error('connection refused');
      },
    });
    reporter.changed(ARN, 'a:1', { state: 'healthy' });
    reporter.changed(ARN, 'b:1', { state: 'healthy' });
    await vi.advanceTimersByTimeAsync(1);
    fail = false;
    reporter.changed(ARN, 'b:1', { state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
    reporter.forgetGroup('other');
    await vi.advanceTimersByTimeAsync(990); // the push failed at t=0: retried at t=1000
    expect(pushes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20);
    expect(pushes[1]).toEqual({ [ARN]: { 'a:1': { state: 'healthy' }, 'b:1': { state: 'unhealthy', reason: 'Target.FailedHealthChecks' } }, other: null });
    await reporter.stop();
  });

  it('pushes the whole state again every resync period (a restarted emulator forgot it)', async () => {
    const pushes: HealthPush[] = [];
    const reporter = startReporter({ emulatorEndpoint: 'http://e', snapshot: () => ({ [ARN]: { 'a:1': { state: 'healthy' } } }), resyncMs: 30_000, post: async (_u, body) => void pushes.push(body) });
    await vi.advanceTimersByTimeAsync(30_001);
    expect(pushes).toEqual([{ [ARN]: { 'a:1': { state: 'healthy' } } }]);
    await reporter.stop();
  });
});

describe('checker: which targets are checked, how, and what it reports', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  const group = (targets: string[], spec: Partial<CheckedGroup['spec']> = {}): CheckedGroup => ({
    arn: ARN,
    spec: { protocol: 'HTTP', port: 'traffic-port', path: '/healthz', matcher: '200', intervalSeconds: 5, timeoutSeconds: 2, healthyThreshold: 2, unhealthyThreshold: 2, ...spec },
    targets: targets.map((address) => ({ targetGroupArn: ARN, id: address, port: 8080, address, zone: address === '10.0.0.9' ? 'b' : 'a' })),
    listenerPort: 80,
  });

  function harness(options: { passes?: (address: string) => boolean; maxInFlight?: number } = {}) {
    const probes: { probe: Probe; target: ProbeTarget; timeoutMs: number }[] = [];
    const pushes: HealthPush[] = [];
    let changes = 0;
    let inFlight = 0;
    let maxSeenInFlight = 0;
    const checks = startHealthChecks({
      sourceAddress: (zone) => (zone === 'a' ? '10.0.1.5' : undefined),
      isSimulated: (address) => address.startsWith('10.0.200.'),
      emulatorEndpoint: 'http://e',
      onChange: () => changes++,
      random: () => 0.5,
      ...(options.maxInFlight ? { maxInFlight: options.maxInFlight } : {}),
      probe: async (probe, target, timeoutMs): Promise<ProbeResult> => {
        probes.push({ probe, target, timeoutMs });
        inFlight += 1;
        maxSeenInFlight = Math.max(maxSeenInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 10));
        inFlight -= 1;
        return { passed: options.passes?.(target.address) ?? true };
      },
    });
    // The reporter posts with fetch: capture its bodies.
    vi.stubGlobal('fetch', async (_url: string, init: { body: string }) => {
      pushes.push(JSON.parse(init.body) as HealthPush);
      return new Response('{}');
    });
    return { checks, probes, pushes, changes: () => changes, maxInFlight: () => maxSeenInFlight };
  }

  it('checks from the NLB address of the zone, with AWS Host header and the group check, jittered first', async () => {
    const h = harness();
    h.checks.update([group(['10.0.0.7', '10.0.0.9'], { port: 31000 })]);
    expect(h.checks.states(ARN).get('10.0.0.7:8080')).toEqual({ state: 'initial', reason: 'Elb.RegistrationInProgress' });
    await vi.advanceTimersByTimeAsync(999);
    expect(h.probes).toHaveLength(0); // jitter: random 0.5 × min(interval, 2 s)
    await vi.advanceTimersByTimeAsync(20);
    expect(h.probes.map((p) => [p.target, p.timeoutMs])).toEqual([
      [{ address: '10.0.0.7', port: 31000, sourceAddress: '10.0.1.5' }, 2000],
      [{ address: '10.0.0.9', port: 31000, sourceAddress: undefined }, 2000],
    ]);
    expect(h.probes[0]!.probe).toMatchObject({ protocol: 'HTTP', path: '/healthz', host: '10.0.1.5:80' });
    expect(h.probes[1]!.probe).toMatchObject({ host: '10.0.0.9:31000' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.checks.healthy(ARN)).toEqual(new Set(['10.0.0.7:8080', '10.0.0.9:8080']));
    expect(h.changes()).toBe(1); // coalesced: both joined the healthy set at once
    await h.checks.stop();
    expect(h.pushes.at(-1)).toEqual({ [ARN]: { '10.0.0.7:8080': { state: 'healthy' }, '10.0.0.9:8080': { state: 'healthy' } } });
  });

  it('simulated targets are healthy at once and never probed; removed targets and groups are forgotten', async () => {
    const h = harness();
    h.checks.update([group(['10.0.200.1', '10.0.0.7'])]);
    expect(h.checks.healthy(ARN)).toEqual(new Set(['10.0.200.1:8080']));
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.probes.every((p) => p.target.address === '10.0.0.7')).toBe(true);
    h.checks.update([group(['10.0.200.1'])]);
    const probed = h.probes.length;
    await vi.advanceTimersByTimeAsync(20_000);
    expect(h.probes).toHaveLength(probed);
    expect(h.pushes.flatMap((push) => Object.entries(push[ARN] ?? {})).filter(([, health]) => health === null)).toEqual([['10.0.0.7:8080', null]]);
    h.checks.update([]);
    expect(h.checks.states(ARN).size).toBe(0);
    await vi.advanceTimersByTimeAsync(300);
    expect(h.pushes.at(-1)).toEqual({ [ARN]: null });
    await h.checks.stop();
  });

  it('a failing target turns unhealthy after the threshold and only that changes the healthy set', async () => {
    let up = true;
    const h = harness({ passes: () => up });
    h.checks.update([group(['10.0.0.7'])]);
    await vi.advanceTimersByTimeAsync(1020 + 5000);
    expect(h.checks.healthy(ARN).size).toBe(1);
    up = false;
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.checks.states(ARN).get('10.0.0.7:8080')).toEqual({ state: 'healthy' });
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.checks.states(ARN).get('10.0.0.7:8080')).toEqual({ state: 'unhealthy', reason: 'Target.FailedHealthChecks' });
    expect(h.changes()).toBe(2);
    await h.checks.stop();
  });

  it('a target taken for simulated that turns out real keeps its state and goes on from it (no flash of initial)', async () => {
    let real = false;
    const probes: ProbeTarget[] = [];
    const checks = startHealthChecks({
      sourceAddress: () => '10.0.1.5',
      isSimulated: () => !real,
      emulatorEndpoint: 'http://e',
      onChange: () => undefined,
      random: () => 0.5,
      probe: async (_probe, target): Promise<ProbeResult> => {
        probes.push(target);
        return { passed: true };
      },
    });
    vi.stubGlobal('fetch', async () => new Response('{}'));
    checks.update([group(['10.0.0.7'])]);
    expect(checks.states(ARN).get('10.0.0.7:8080')).toEqual({ state: 'healthy' });
    real = true; // hosts.json now lists the node
    checks.update([group(['10.0.0.7'])]);
    expect(checks.states(ARN).get('10.0.0.7:8080')).toEqual({ state: 'healthy' });
    expect(checks.healthy(ARN)).toEqual(new Set(['10.0.0.7:8080']));
    await vi.advanceTimersByTimeAsync(1020);
    expect(probes).toHaveLength(1); // and it is really checked from now on
    await checks.stop();
  });

  it('runs at most maxInFlight checks at once', async () => {
    const h = harness({ maxInFlight: 3 });
    h.checks.update([group(Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 10}`))]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(h.probes).toHaveLength(20);
    expect(h.maxInFlight()).toBe(3);
    await h.checks.stop();
  });
});
