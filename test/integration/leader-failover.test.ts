import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { connect, createTestNamespace, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { joinNetwork, sweepCluster } from './support/controller.ts';
import { parseMetrics } from '../../bench/lib/process.ts';

interface Replica {
  name: string;
  process: ChildProcess;
  lines: string[];
  url?: string;
}

// Two controller processes with leader election, as the Deployment runs them: one leads; SIGKILL it, change a
// Service meanwhile, and the other takes over and converges it. Their /metrics, /healthz and /readyz are scraped.
describe('leader election with two processes', () => {
  let env: TestEnvironment;
  let ns: { name: string; remove: () => Promise<void> };
  let leave: () => Promise<void>;
  const cluster = uniqueName('lease');
  const replicas: Replica[] = [];

  const startReplica = (name: string): Replica => {
    const replica: Replica = {
      name,
      lines: [],
      process: spawn(
        process.execPath,
        [
          'src/cli/main.ts', 'run', '--local', '--cluster-name', cluster, '--controllers', 'service', '--watch-namespace', ns.name,
          '--leader-elect', 'true', '--leader-election-namespace', ns.name,
          '--leader-election-lease-duration', '4s', '--leader-election-renew-deadline', '3s', '--leader-election-retry-period', '1s',
          '--metrics-address', '127.0.0.1:0', '--health-address', 'off',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    };
    const onLine = (line: string) => {
      replica.lines.push(line);
      const url = /"url":"([^"]+)"/.exec(line)?.[1];
      if (url) replica.url = url;
    };
    createInterface({ input: replica.process.stdout! }).on('line', onLine);
    createInterface({ input: replica.process.stderr! }).on('line', onLine);
    replicas.push(replica);
    return replica;
  };
  const leads = (r: Replica) => r.lines.some((l) => l.includes('became the leader'));
  const scrape = async (r: Replica, path: string) => fetch(`${r.url}${path}`);

  beforeAll(async () => {
    env = connect();
    leave = await joinNetwork(env, cluster);
    ns = await createTestNamespace(env.core, 'lease');
  });

  afterAll(async () => {
    for (const r of replicas) r.process.kill('SIGKILL');
    await ns?.remove();
    await sweepCluster(env, cluster);
    await leave?.();
    env?.close();
  });

  it('exactly one leads; after it is killed the other takes over and converges a Service changed meanwhile', async () => {
    onTestFailed(() => {
      for (const r of replicas) console.error(`--- replica ${r.name} ---\n${r.lines.join('\n')}`);
    });
    const a = startReplica('a');
    const b = startReplica('b');
    const leader = await waitFor(() => [a, b].find(leads), { description: 'a leader', timeoutMs: 30_000 });
    const standby = leader === a ? b : a;
    await waitFor(() => standby.url, { description: 'standby serving' });
    expect(leads(standby)).toBe(false);
    // A standby is ready (warm caches) so rollouts and the PodDisruptionBudget never stall on it.
    await waitFor(async () => (await scrape(standby, '/readyz')).status === 200, { description: 'the standby ready', timeoutMs: 30_000 });
    expect((await scrape(standby, '/healthz')).status).toBe(200);
    expect(leads(standby)).toBe(false);

    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'web', annotations: { [Annotations.targetType]: 'ip' } },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    });
    await waitForLoadBalancer(env, ns.name, 'web', (lb) => lb.listeners.length === 1);
    const metrics = parseMetrics(await (await scrape(leader, '/metrics')).text());
    expect(metrics.get('cloud_provider_localstack_aws_api_calls_total{service="ELBv2",operation="CreateLoadBalancer",outcome="success"}')).toBe(1);
    expect(metrics.get('cloud_provider_localstack_reconcile_total{controller="service",result="success"}')).toBeGreaterThanOrEqual(1);
    expect([...metrics.keys()].some((k) => k.startsWith('cloud_provider_localstack_workqueue_depth{name="service"}'))).toBe(true);
    expect([...metrics.keys()].some((k) => k.startsWith('cloud_provider_localstack_aws_api_call_duration_seconds_bucket'))).toBe(true);
    expect((await scrape(leader, '/readyz')).status).toBe(200);

    leader.process.kill('SIGKILL');
    await env.core.patchNamespacedService({
      namespace: ns.name,
      name: 'web',
      body: [{ op: 'add', path: '/spec/ports/-', value: { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' } }],
    });
    await waitFor(() => leads(standby), { description: 'the standby takes over', timeoutMs: 30_000 });
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => o.listeners.length === 2, { timeoutMs: 30_000 });
    expect(lb.listeners.map((l) => l.port)).toEqual([80, 443]);
    const lease = await env.coordination.readNamespacedLease({ namespace: ns.name, name: 'cloud-provider-localstack' });
    expect(lease.spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
  });
});
