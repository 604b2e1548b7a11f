import { beforeAll, describe, expect, it } from 'vitest';
import { markdownTable } from '../../bench/lib/report.ts';
import { runBench, type BenchResult, type ScenarioResult } from '../../bench/lib/runner.ts';
import type { Figures } from '../../bench/lib/types.ts';
import { scenarios } from '../../bench/scenarios/index.ts';

// Every benchmark scenario at its smoke size: it must complete, clean up, and report sane figures. Speed is never
// asserted here (see bench/README.md for the figures at full size).
describe('benchmarks at smoke size', () => {
  let result: BenchResult;
  const scenario = (name: string): ScenarioResult => {
    const found = result.scenarios.find((s) => s.name === name);
    if (!found) throw new Error(`scenario ${name} did not run`);
    return found;
  };
  const num = (figures: Figures, name: string): number => {
    const value = figures[name];
    if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`figure ${name} is ${JSON.stringify(value)}, not a number`);
    return value;
  };
  const counts = (figures: Figures, name: string): Record<string, number> => {
    const value = figures[name];
    if (typeof value !== 'object') throw new Error(`figure ${name} is ${JSON.stringify(value)}, not counts`);
    return value;
  };
  /** p50 ≤ p95 ≤ p99 ≤ max of a latency figure, over `count` samples. */
  const ordered = (figures: Figures, prefix: string, count?: number) => {
    const [p50, p95, p99, max] = ['p50Ms', 'p95Ms', 'p99Ms', 'maxMs'].map((p) => num(figures, `${prefix}.${p}`));
    expect(p50).toBeGreaterThanOrEqual(0);
    expect(p50).toBeLessThanOrEqual(p95!);
    expect(p95).toBeLessThanOrEqual(p99!);
    expect(p99).toBeLessThanOrEqual(max!);
    if (count !== undefined) expect(num(figures, `${prefix}.count`)).toBe(count);
  };
  const ok = (name: string): Figures => {
    const s = scenario(name);
    expect(s.error, `${name} failed`).toBeUndefined();
    expect(s.ok).toBe(true);
    expect(s.cleanupErrors).toEqual([]);
    return s.figures;
  };

  beforeAll(async () => {
    result = await runBench(scenarios, 'smoke');
    console.info(markdownTable(result));
  }, 1_800_000);

  it('runs every scenario, in order, with the run described (machine, Node, commit, sizes)', () => {
    expect(result.scenarios.map((s) => s.name)).toEqual(['one-service', 'burst', 'steady-state', 'churn', 'restart', 'pool', 'footprint', 'vpc-pods', 'nlb-dataplane', 'nlb-latency']);
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.node).toMatch(/^v\d+/);
    expect(result.git.commit).toMatch(/^[0-9a-f]{40}$|^unknown$/);
    expect(Object.keys(result.sizes)).toHaveLength(result.scenarios.length);
  });

  it('one-service: both modes converge; the NLB comes before its targets; calls by operation; time splits into AWS and the rest', () => {
    const f = ok('one-service');
    for (const mode of ['instance', 'ip']) {
      const converged = num(f, `${mode}.convergedMs`);
      expect(converged).toBeGreaterThan(0);
      expect(num(f, `${mode}.nlbCreatedMs`)).toBeLessThanOrEqual(num(f, `${mode}.targetsRegisteredMs`));
      expect(num(f, `${mode}.targetsRegisteredMs`)).toBeLessThanOrEqual(converged);
      const calls = counts(f, `${mode}.callsByOperation`);
      expect(calls['ELBv2:CreateLoadBalancer']).toBeGreaterThanOrEqual(1);
      expect(calls['ELBv2:RegisterTargets']).toBeGreaterThanOrEqual(1);
      expect(num(f, `${mode}.calls`)).toBe(Object.values(calls).reduce((a, b) => a + b, 0));
      expect(num(f, `${mode}.awsBusyMs`)).toBeGreaterThan(0);
      expect(num(f, `${mode}.awsBusyMs`) + num(f, `${mode}.notInAwsMs`)).toBeCloseTo(num(f, `${mode}.wallMs`), 0);
      expect(num(f, `${mode}.targets`)).toBe(3);
    }
  });

  it('burst: every Service converges and is verified in AWS; calls and peak concurrency are counted', () => {
    const f = ok('burst');
    const services = num(f, 'services');
    expect(num(f, 'verifiedServices')).toBe(services);
    ordered(f, 'convergedAfterCreate', services);
    expect(num(f, 'allConvergedMs')).toBe(num(f, 'convergedAfterCreate.maxMs'));
    expect(num(f, 'calls')).toBeGreaterThanOrEqual(services);
    expect(counts(f, 'callsByOperation')['ELBv2:CreateLoadBalancer']).toBeGreaterThanOrEqual(services);
    expect(num(f, 'peakConcurrency')).toBeGreaterThanOrEqual(1);
    expect(num(f, 'counterPeakConcurrency')).toBeGreaterThanOrEqual(num(f, 'peakConcurrency'));
    expect(num(f, 'reconcileErrors')).toBe(0);
  });

  it('steady-state: three resyncs read but never write for our Services', () => {
    const f = ok('steady-state');
    expect(num(f, 'resyncs')).toBe(3);
    expect(num(f, 'callsPerResync')).toBeGreaterThan(0);
    expect(num(f, 'mutatingCalls')).toBe(0);
    expect(num(f, 'reconciles')).toBeGreaterThanOrEqual(3 * num(f, 'services'));
    // Load balancers and target groups are read in bulk (20 ARNs a call), not once per Service.
    const perResync = counts(f, 'callsPerResyncByOperation');
    expect(perResync['ELBv2:DescribeLoadBalancers']).toBeLessThan(num(f, 'services'));
    expect(perResync['ELBv2:DescribeTargetGroups']).toBeLessThan(num(f, 'services'));
    expect(perResync['ELBv2:DescribeTargetHealth']).toBeGreaterThanOrEqual(num(f, 'services'));
  });

  it('churn: every EndpointSlice change is matched by the target group; percentiles ordered; calls per change', () => {
    const f = ok('churn');
    const changes = num(f, 'changes');
    expect(changes).toBeGreaterThanOrEqual(3);
    ordered(f, 'sliceToTargets', changes);
    expect(num(f, 'scaleUp.changes') + num(f, 'scaleDown.changes') + num(f, 'deletePods.changes')).toBe(changes);
    expect(num(f, 'elbv2CallsPerChange')).toBeGreaterThan(0);
    expect(counts(f, 'callsByOperation')['ELBv2:RegisterTargets']).toBeGreaterThan(0);
    expect(counts(f, 'callsByOperation')['ELBv2:DeregisterTargets']).toBeGreaterThan(0);
  });

  it('restart: every Service is confirmed by the new process without a single AWS write for it', () => {
    const f = ok('restart');
    const services = num(f, 'services');
    expect(num(f, 'verifiedServices')).toBe(services);
    ordered(f, 'confirmedAfterStart', services);
    expect(num(f, 'allConfirmedMs')).toBeGreaterThanOrEqual(num(f, 'startMs'));
    expect(num(f, 'writes')).toBe(0);
    expect(num(f, 'calls')).toBeGreaterThan(0);
  });

  it('pool: every pod gets an address; scheduling → address percentiles ordered; EC2 calls per pod', () => {
    const f = ok('pool');
    const pods = num(f, 'pods');
    ordered(f, 'boundToAddress', pods);
    expect(num(f, 'warmAddressesBefore')).toBeGreaterThan(0);
    expect(num(f, 'addressesAfter')).toBeGreaterThanOrEqual(pods);
    expect(num(f, 'ec2CallsPerPod')).toBeGreaterThanOrEqual(0);
    expect(num(f, 'ec2Calls')).toBe(Object.entries(counts(f, 'callsByOperation')).filter(([k]) => k.startsWith('EC2:')).reduce((a, [, n]) => a + n, 0));
  });

  it('footprint: the controller process reports RSS and heap with every Service converged', () => {
    const f = ok('footprint');
    expect(num(f, 'idleRssMiB')).toBeGreaterThan(0);
    expect(num(f, 'rssMiB')).toBeGreaterThan(0);
    expect(num(f, 'peakRssMiB')).toBeGreaterThanOrEqual(num(f, 'rssMiB'));
    expect(num(f, 'heapUsedMiB')).toBeGreaterThan(0);
    expect(num(f, 'heapUsedMiB')).toBeLessThanOrEqual(num(f, 'heapTotalMiB'));
    expect(counts(f, 'callsByOperation')['ELBv2:CreateLoadBalancer']).toBeGreaterThanOrEqual(num(f, 'services'));
  });

  it('vpc-pods: every pod serves (Ready through its real process); created → serving percentiles ordered; memory per pod and in all', () => {
    const f = ok('vpc-pods');
    const pods = num(f, 'pods');
    ordered(f, 'createdToServing', pods);
    expect(num(f, 'allServingMs')).toBeGreaterThan(0);
    expect(num(f, 'podPssP50MiB')).toBeGreaterThan(0);
    expect(num(f, 'podPssMaxMiB')).toBeGreaterThanOrEqual(num(f, 'podPssP50MiB'));
    expect(num(f, 'podRssP50MiB')).toBeGreaterThanOrEqual(num(f, 'podPssP50MiB'));
    expect(num(f, 'nodeProcessesPssPerNodeMiB')).toBeGreaterThan(0);
    expect(num(f, 'allPssMiB')).toBeGreaterThanOrEqual(num(f, 'podsPssMiB'));
  });

  it('nlb-dataplane: every NLB forwards (after its creation); the nlb process used CPU and memory; registrations applied', () => {
    const f = ok('nlb-dataplane');
    expect(num(f, 'nlbAddresses')).toBe(3 * num(f, 'loadBalancers'));
    expect(num(f, 'allForwardingMs')).toBeGreaterThanOrEqual(num(f, 'createdMs'));
    expect(num(f, 'cpuSecondsToForwardAll')).toBeGreaterThan(0);
    expect(num(f, 'idleCpuPercent')).toBeGreaterThanOrEqual(0);
    expect(num(f, 'rssMiB')).toBeGreaterThan(0);
    ordered(f, 'registrationApplies', 3);
  });

  it('nlb-latency: every request answered straight and through the NLB in both modes; percentiles ordered', () => {
    const f = ok('nlb-latency');
    expect(num(f, 'failed')).toBe(0);
    for (const path of ['direct', 'nlbInstance', 'nlbIp']) {
      expect(num(f, `${path}.count`)).toBe(num(f, 'requests'));
      ordered(f, path);
      expect(num(f, `${path}PerSecond`)).toBeGreaterThan(0);
    }
  });
});
