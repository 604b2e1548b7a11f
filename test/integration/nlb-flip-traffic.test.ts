import { DescribeListenersCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween } from '../../src/cloud/calls.ts';
import { Annotations } from '../../src/core/annotations.ts';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestNamespace,
  expectEveryTargetServes,
  FAST_HEALTH_CHECK_ANNOTATIONS,
  loadBalancerServiceBody,
  measureAvailability,
  removeNamespaceThenNodes,
  serviceLoadBalancer,
  uniqueName,
  waitForLoadBalancer,
  waitForNetworkedNodes,
  waitForReadyPods,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// The seed's picture under load: a Service flipped instance → ip → instance while a client in the VPC sends
// 20 requests a second through its NLB (real data plane, real health checks): not one request may fail, and each
// new target group is health-checked through a staging listener before the listener moves (ADR 0010).
describe('target-type flip under continuous traffic', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('flip-node'), uniqueName('flip-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'nlb-flip' };
  const service = { namespace: '', name: 'web' };
  let podNames: string[] = [];

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'nlb-flip');
    service.namespace = ns.name;
    for (const name of nodes) await createNetworkedNode(env.core, name, { labels: testLabel });
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=nlb-flip' });
    await waitForNetworkedNodes(env.core, nodes);
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('web', { replicas: 3, nodeSelector: testLabel }) });
    podNames = (await waitForReadyPods(env.core, ns.name, 'app=web', 3, 120_000)).map((p) => p.metadata!.name!).sort();
    // Checks every 5 s, healthy after 2: a new group serves within ~10 s (AWS's defaults take 30 s or more).
    const annotations = {
      [Annotations.targetType]: 'instance',
      ...FAST_HEALTH_CHECK_ANNOTATIONS,
      [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=5',
    };
    await env.core.createNamespacedService({ namespace: ns.name, body: loadBalancerServiceBody('web', { annotations }) });
    await waitForLoadBalancer(env, ns.name, 'web', (lb) => lb.listeners[0]?.targets.some((t) => t.health === 'healthy') ?? false, { timeoutMs: 120_000 });
  }, 400_000);

  afterAll(async () => {
    await env.core.deleteNamespacedService({ namespace: ns.name, name: 'web' }).catch(() => undefined);
    await cluster?.manager.idle();
    await removeNamespaceThenNodes(env.core, ns, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  }, 120_000);

  /** Flips the Service and waits until the listener serves from a group of the new type with healthy targets. */
  const flipTo = async (targetType: 'ip' | 'instance') => {
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { metadata: { annotations: { [Annotations.targetType]: targetType } } } }, mergePatch);
    const lb = await waitForLoadBalancer(
      env,
      ns.name,
      'web',
      (o) => o.listeners.length === 1 && o.listeners[0]!.targetType === targetType && o.listeners[0]!.targets.some((t) => t.health === 'healthy'),
      { timeoutMs: 120_000 },
    );
    await cluster.manager.idle();
    return lb;
  };

  it('every ready pod serves a share of 100 requests through the NLB (instance mode: NLB → node → kube-proxy → pod)', async () => {
    const counts = await expectEveryTargetServes(env, service, podNames);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(100);
  });

  it('instance → ip → instance at 20 requests/s: no request fails; each new group is checked through a staging listener first', async () => {
    const { arn } = await serviceLoadBalancer(env, service);
    const seenStates = new Set<string>();
    // Each observation of the Service's listener: the group it forwarded to and how many of its targets were
    // healthy, kept only when the listener did not move while it was read.
    const served: { tg: string; healthy: number }[] = [];
    let watching = true;
    const forwardsTo = async () =>
      ((await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: arn }))).Listeners ?? []).map((l) => ({ port: l.Port, tg: l.DefaultActions?.[0]?.TargetGroupArn ?? '' }));
    const healthOf = async (tg: string) => (await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg })).catch(() => undefined))?.TargetHealthDescriptions;
    // While the flips run, record what the new groups report (`initial` while checked through the staging
    // listener) and what the Service's listener serves from.
    const watcher = (async () => {
      while (watching) {
        const listeners = await forwardsTo();
        for (const listener of listeners.filter((l) => l.port !== 80)) {
          for (const d of (await healthOf(listener.tg)) ?? []) seenStates.add(`${d.TargetHealth?.State}/${d.TargetHealth?.Reason ?? ''}`);
        }
        const live = listeners.find((l) => l.port === 80)?.tg;
        const health = live ? await healthOf(live) : undefined;
        if (live && health && (await forwardsTo()).find((l) => l.port === 80)?.tg === live) {
          served.push({ tg: live, healthy: health.filter((d) => d.TargetHealth?.State === 'healthy').length });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const before = cluster.manager.aws.calls.snapshot();
    const availability = await measureAvailability(
      env,
      service,
      async () => {
        await flipTo('ip');
        await flipTo('instance');
      },
      { path: '/hostname', requestsPerSecond: 20 },
    );
    watching = false;
    await watcher;
    console.info('flip under traffic:', JSON.stringify({ sent: availability.sent, failed: availability.failed, states: [...seenStates] }));
    expect(availability.failures).toEqual([]);
    expect(availability.sent).toBeGreaterThan(100);
    const calls = callsBetween(before, cluster.manager.aws.calls.snapshot());
    // Two flips: each one staging listener created and deleted, one listener switch.
    expect([calls['ELBv2:CreateListener'], calls['ELBv2:ModifyListener'], calls['ELBv2:DeleteListener']]).toEqual([2, 2, 2]);
    // The new groups were really health-checked: seen `initial` before they turned healthy.
    expect([...seenStates].some((s) => s.startsWith('initial/'))).toBe(true);
    // The listener moved only to a group with healthy targets: it never served from one without.
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter((o) => o.healthy === 0)).toEqual([]);
  }, 300_000);

  it('a flip whose new group cannot turn healthy waits: the listener stays on the old group, which keeps its node rules and serves for 40 s', async () => {
    // healthcheck-port 9 answers nothing: the ip group stays unhealthy, so the listener must stay where it is. The
    // old group's port stays allowed in the node group meanwhile (its targets would fail their checks otherwise).
    const patch = (annotations: Record<string, string | null>) => env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { metadata: { annotations } } }, mergePatch);
    const availability = await measureAvailability(
      env,
      service,
      async () => {
        await patch({ [Annotations.targetType]: 'ip', [Annotations.healthCheckPort]: '9' });
        await new Promise((resolve) => setTimeout(resolve, 40_000));
      },
      { path: '/hostname', requestsPerSecond: 10 },
    );
    expect(availability.failures).toEqual([]);
    expect(availability.sent).toBeGreaterThan(200);
    const lb = await waitForLoadBalancer(env, ns.name, 'web');
    const live = lb.listeners.find((l) => l.port === 80)!;
    expect(live.targetType).toBe('instance');
    expect(live.targets.filter((t) => t.health === 'healthy').length).toBeGreaterThan(0);
    // The check port fixed, the flip goes through.
    await patch({ [Annotations.healthCheckPort]: null });
    await flipTo('ip');
  }, 300_000);
});
