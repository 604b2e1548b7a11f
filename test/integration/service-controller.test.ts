import { CreateLoadBalancerCommand, DeleteLoadBalancerCommand, DeregisterTargetsCommand, DescribeLoadBalancersCommand, DescribeListenersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { PatchStrategy, setHeaderOptions, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween } from '../../src/cloud/calls.ts';
import { Annotations, SERVICE_FINALIZER } from '../../src/core/annotations.ts';
import { INSTANCE_ID_ANNOTATION } from '../../src/core/nodes.ts';
import {
  connect,
  createKwokNode,
  createTestNamespace,
  deleteNodes,
  healthyTargets,
  uniqueName,
  waitFor,
  waitForLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';

// The Service and node controllers against the real kube-apiserver and the emulator.
describe('service controller', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('svc-node'), uniqueName('svc-node')];
  const nodeLabel = { 'cloud-provider-localstack/test-node': 'service-controller' };

  const instanceOf = async (node: string) =>
    waitFor(async () => (await env.core.readNode({ name: node })).metadata?.annotations?.[INSTANCE_ID_ANNOTATION], { description: `instance of ${node}` });

  const createService = (name: string, annotations: Record<string, string> = {}, spec: Partial<V1Service['spec']> = {}) =>
    env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name, annotations },
        spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
      },
    });

  const annotate = (name: string, annotations: Record<string, string | null>) =>
    env.core.patchNamespacedService(
      { namespace: ns.name, name, body: { metadata: { annotations } } },
      mergePatch,
    );

  const createDeployment = async (name: string, replicas: number) => {
    await env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name } },
            spec: { nodeSelector: nodeLabel, containers: [{ name: 'app', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] },
          },
        },
      },
    });
  };

  const scale = (name: string, replicas: number) =>
    env.apps.patchNamespacedDeploymentScale({ namespace: ns.name, name, body: { spec: { replicas } } }, mergePatch);

  const podIps = async (app: string) =>
    (await env.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${app}` })).items
      .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && p.status.podIP)
      .map((p) => `${p.status!.podIP}:8080`)
      .sort();

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'svc');
    for (const node of nodes) await createKwokNode(env.core, node, { labels: nodeLabel });
    cluster = await startTestCluster(env, { watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=service-controller' });
  });

  afterAll(async () => {
    await ns?.remove();
    await deleteNodes(env.core, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  });

  it('the node controller gives every Node an EC2 instance, with zone and instance-type labels', async () => {
    for (const node of nodes) {
      const instanceId = await instanceOf(node);
      expect(instanceId).toMatch(/^i-/);
      const labels = (await env.core.readNode({ name: node })).metadata?.labels ?? {};
      expect(labels['topology.kubernetes.io/zone']).toMatch(/^us-east-1[abc]$/);
      expect(labels['node.kubernetes.io/instance-type']).toBe('m5.large');
    }
  });

  it('instance mode: an internal NLB with a TCP listener, every node instance on the nodePort, status and finalizer set', async () => {
    const before = cluster.manager.aws.calls.snapshot();
    const created = await createService('web');
    const nodePort = created.spec!.ports![0]!.nodePort!;
    const instances = (await Promise.all(nodes.map(instanceOf))).map((id) => `${id}:${nodePort}`).sort();
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (observed) => healthyTargets(observed.listeners[0]).length === instances.length);
    expect(lb.scheme).toBe('internal');
    expect(lb.name).toMatch(/^k8s-svc.*-web-[0-9a-f]{10}$/);
    expect(lb.listeners.map((l) => [l.port, l.protocol, l.targetType, l.targetGroupPort])).toEqual([[80, 'TCP', 'instance', nodePort]]);
    expect(healthyTargets(lb.listeners[0])).toEqual(instances);

    const service = await env.core.readNamespacedService({ namespace: ns.name, name: 'web' });
    expect(service.metadata?.finalizers).toContain(SERVICE_FINALIZER);
    expect(service.status?.loadBalancer?.ingress?.[0]?.hostname).toBe(lb.dnsName.toLowerCase());
    await waitForEvent(env, ns.name, 'web', 'EnsuredLoadBalancer');
    await cluster.manager.idle();
    const calls = callsBetween(before, cluster.manager.aws.calls.snapshot());
    // Recorded for the issue note: what one new 1-port Service costs.
    console.info('AWS calls for one new 1-port instance-mode Service:', JSON.stringify(calls));
    expect(calls['ELBv2:CreateLoadBalancer']).toBe(1);
    expect(calls['ELBv2:CreateTargetGroup']).toBe(1);
    expect(calls['ELBv2:CreateListener']).toBe(1);
  });

  it('steady state: a resync makes no AWS write', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    await cluster.manager.service!.resync();
    await cluster.manager.idle();
    const writes = Object.entries(callsBetween(before, cluster.manager.aws.calls.snapshot())).filter(([op]) => !/:(Describe|List|Get)/.test(op));
    expect(writes).toEqual([]);
  });

  it('instance targets follow nodes: added, excluded, removed', async () => {
    const extra = uniqueName('svc-node');
    nodes.push(extra);
    await createKwokNode(env.core, extra, { labels: nodeLabel });
    const extraInstance = await instanceOf(extra);
    let lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => healthyTargets(o.listeners[0]).some((t) => t.startsWith(extraInstance)));
    expect(healthyTargets(lb.listeners[0])).toHaveLength(3);

    await env.core.patchNode({ name: extra, body: { metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } } } }, mergePatch);
    lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => !healthyTargets(o.listeners[0]).some((t) => t.startsWith(extraInstance)));
    expect(healthyTargets(lb.listeners[0])).toHaveLength(2);

    await env.core.patchNode({ name: extra, body: { metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'false' } } } }, mergePatch);
    await waitForLoadBalancer(env, ns.name, 'web', (o) => healthyTargets(o.listeners[0]).length === 3);
    await deleteNodes(env.core, [extra]);
    lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => healthyTargets(o.listeners[0]).length === 2);
    expect(healthyTargets(lb.listeners[0]).some((t) => t.startsWith(extraInstance))).toBe(false);
    // The deleted Node's launched instance is terminated.
    await waitFor(async () => {
      const result = await env.aws.ec2.send(new DescribeInstancesCommand({ InstanceIds: [extraInstance] }));
      return result.Reservations?.[0]?.Instances?.[0]?.State?.Name === 'terminated';
    }, { description: `instance ${extraInstance} terminated` });
  });

  it('ip mode: the targets are the ready pods on the targetPort and follow scaling', async () => {
    await createDeployment('api', 2);
    await createService('api', { [Annotations.targetType]: 'ip' }, { selector: { app: 'api' } });
    let lb = await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 2);
    expect(lb.listeners[0]!.targetType).toBe('ip');
    expect(healthyTargets(lb.listeners[0])).toEqual(await podIps('api'));

    await scale('api', 4);
    lb = await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 4);
    expect(healthyTargets(lb.listeners[0])).toEqual(await podIps('api'));
    await scale('api', 1);
    lb = await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 1);
    expect(healthyTargets(lb.listeners[0])).toEqual(await podIps('api'));
  });

  it.each([
    ['instance → ip', 'web', 'ip'],
    ['ip → instance', 'web', 'instance'],
  ])('flipping %s: the listener has a healthy target at every observation', async (_title, name, to) => {
    await createDeploymentOnce(name);
    const start = await waitForLoadBalancer(env, ns.name, name, (o) => healthyTargets(o.listeners[0]).length > 0);
    const fromTg = start.listeners[0]!.targetGroupArn;
    const observations: { tg: string; healthy: number; listeners: number }[] = [];
    let done = false;
    const poller = (async () => {
      while (!done) observations.push(await observeListener(env, start.arn));
    })();
    const callsBefore = cluster.manager.aws.calls.snapshot();
    await annotate(name, { [Annotations.targetType]: to });
    const end = await waitForLoadBalancer(env, ns.name, name, (o) => o.listeners[0]!.targetType === to && healthyTargets(o.listeners[0]).length > 0);
    await cluster.manager.idle();
    done = true;
    await poller;
    observations.push(await observeListener(env, start.arn));
    expect(end.listeners[0]!.targetGroupArn).not.toBe(fromTg);
    expect(observations.length).toBeGreaterThan(3);
    expect(observations.filter((o) => o.healthy === 0)).toEqual([]);
    // Both groups were seen serving: the switch happened while we watched.
    expect(new Set(observations.map((o) => o.tg))).toEqual(new Set([fromTg, end.listeners[0]!.targetGroupArn]));
    // The new group was health-checked through a staging listener (an unattached group's targets are `unused`,
    // as on AWS: ADR 0010), which is gone once the listener moved.
    const flipCalls = callsBetween(callsBefore, cluster.manager.aws.calls.snapshot());
    expect([flipCalls['ELBv2:CreateListener'], flipCalls['ELBv2:ModifyListener'], flipCalls['ELBv2:DeleteListener']]).toEqual([1, 1, 1]);
    expect(observations.at(-1)!.listeners).toBe(1);
    // The old group is gone.
    await expect(env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: fromTg }))).rejects.toThrow();
  });

  it('ports added, changed and removed: listeners follow', async () => {
    const ports = (list: [string, number][]) => list.map(([pname, port]) => ({ name: pname, port, targetPort: 8080, protocol: 'TCP' }));
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { spec: { ports: ports([['http', 80], ['https', 443]]) } } }, strategicPatch);
    let lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => o.listeners.length === 2);
    expect(lb.listeners.map((l) => l.port)).toEqual([80, 443]);
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { spec: { ports: ports([['alt', 8443]]) } } }, mergePatch);
    // The new port's group is health-checked by the data plane: initial for a moment, then healthy.
    lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => o.listeners.map((l) => l.port).join() === '8443' && healthyTargets(o.listeners[0]).length > 0);
    expect(healthyTargets(lb.listeners[0]).length).toBeGreaterThan(0);
  });

  it('a load balancer of ours that the index does not know (a create whose answer was lost) is adopted, not duplicated', async () => {
    const name = uniqueName('adopt');
    const lost = await env.aws.elbv2.send(
      new CreateLoadBalancerCommand({
        Name: name,
        Type: 'network',
        Scheme: 'internal',
        Subnets: env.network.privateSubnets.map((s) => s.id),
        Tags: [
          { Key: 'elbv2.k8s.aws/cluster', Value: cluster.name },
          { Key: 'service.k8s.aws/stack', Value: `${ns.name}/adopt` },
          { Key: 'service.k8s.aws/resource', Value: 'LoadBalancer' },
        ],
      }),
    );
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.snapshot();
    await createService('adopt', { [Annotations.name]: name, [Annotations.targetType]: 'ip' });
    const lb = await waitForLoadBalancer(env, ns.name, 'adopt', (o) => o.listeners.length === 1);
    expect(lb.arn).toBe(lost.LoadBalancers![0]!.LoadBalancerArn);
    await cluster.manager.idle();
    expect(callsBetween(before, cluster.manager.aws.calls.snapshot())['ELBv2:CreateLoadBalancer']).toBeUndefined();
    await env.core.deleteNamespacedService({ namespace: ns.name, name: 'adopt' });
    await waitFor(async () => !(await env.core.listNamespacedService({ namespace: ns.name })).items.some((s) => s.metadata?.name === 'adopt'), { description: 'adopt deleted' });
  });

  it('a bad annotation is a Warning event naming the annotation and the value, with no AWS write', async () => {
    await cluster.manager.idle();
    const before = cluster.manager.aws.calls.mutating;
    await annotate('web', { [Annotations.scheme]: 'public' });
    const event = await waitForEvent(env, ns.name, 'web', 'SyncLoadBalancerFailed', Annotations.scheme);
    expect(event.type).toBe('Warning');
    expect(event.message).toContain('"public"');
    await cluster.manager.idle();
    expect(cluster.manager.aws.calls.mutating).toBe(before);
    await annotate('web', { [Annotations.scheme]: null });
  });

  it('a foreign load balancer with our name is never touched; deleting the Service removes ours', async () => {
    const ours = await waitForLoadBalancer(env, ns.name, 'web');
    const foreign = await env.aws.elbv2.send(
      new CreateLoadBalancerCommand({ Name: ours.name, Type: 'network', Scheme: 'internal', Subnets: env.network.privateSubnets.map((s) => s.id) }),
    );
    const foreignArn = foreign.LoadBalancers![0]!.LoadBalancerArn!;
    try {
      await cluster.manager.service!.resync();
      await cluster.manager.idle();
      await env.core.deleteNamespacedService({ namespace: ns.name, name: 'web' });
      await waitFor(async () => !(await env.core.listNamespacedService({ namespace: ns.name })).items.some((s) => s.metadata?.name === 'web'), { description: 'web deleted' });
      await expect(env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [ours.arn] }))).rejects.toThrow();
      const still = await env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [foreignArn] }));
      expect(still.LoadBalancers?.[0]?.LoadBalancerArn).toBe(foreignArn);
      expect((await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: foreignArn }))).Listeners).toEqual([]);
    } finally {
      await env.aws.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: foreignArn }));
    }
  });

  it('a target deregistered behind our back is registered again within one resync', async () => {
    const lb = await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 1);
    // Scaled-down pods' addresses may still be draining (listed, as on AWS): take the healthy one.
    const target = lb.listeners[0]!.targets.find((t) => t.health === 'healthy');
    await env.aws.elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: lb.listeners[0]!.targetGroupArn, Targets: [{ Id: target!.id, Port: target!.port }] }));
    await cluster.manager.service!.resync();
    await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 1);
  });

  it('a health check changed and a load balancer deleted behind our back are put right within one resync each', async () => {
    // A resync reads load balancers and target groups in bulk; what it read must be what is there now.
    const lb = await waitForLoadBalancer(env, ns.name, 'api', (o) => healthyTargets(o.listeners[0]).length === 1);
    const tgArn = lb.listeners[0]!.targetGroupArn;
    const interval = async () => (await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [tgArn] }))).TargetGroups![0]!.HealthCheckIntervalSeconds;
    const desired = await interval();
    await env.aws.elbv2.send(new ModifyTargetGroupCommand({ TargetGroupArn: tgArn, HealthCheckIntervalSeconds: desired === 30 ? 10 : 30 }));
    await cluster.manager.service!.resync();
    await cluster.manager.idle();
    expect(await interval()).toBe(desired);

    await env.aws.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.arn }));
    await cluster.manager.service!.resync();
    const recreated = await waitForLoadBalancer(env, ns.name, 'api', (o) => o.arn !== lb.arn && healthyTargets(o.listeners[0]).length === 1);
    expect(recreated.listeners.map((l) => l.port)).toEqual(lb.listeners.map((l) => l.port));
    const service = await env.core.readNamespacedService({ namespace: ns.name, name: 'api' });
    expect(service.status?.loadBalancer?.ingress?.[0]?.hostname).toBe(recreated.dnsName.toLowerCase());
  });

  it('a Service turned ClusterIP loses everything of ours, its status and the finalizer', async () => {
    const lb = await waitForLoadBalancer(env, ns.name, 'api');
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'api', body: { spec: { type: 'ClusterIP' } } }, mergePatch);
    await waitFor(async () => {
      const service = await env.core.readNamespacedService({ namespace: ns.name, name: 'api' });
      return !service.metadata?.finalizers?.includes(SERVICE_FINALIZER) && !service.status?.loadBalancer?.ingress?.length;
    }, { description: 'finalizer and status removed' });
    await expect(env.aws.elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb.arn] }))).rejects.toThrow();
    await waitForEvent(env, ns.name, 'api', 'DeletedLoadBalancer');
    // Only the node instances are left of ours (they go with the nodes).
    expect((await cluster.sweep()).sort()).toEqual((await instancesOfCluster()).sort());
  });

  async function instancesOfCluster(): Promise<string[]> {
    return Promise.all(nodes.filter((n) => n !== nodes[2]).map(instanceOf));
  }

  async function createDeploymentOnce(name: string) {
    const existing = await env.apps.listNamespacedDeployment({ namespace: ns.name });
    if (!existing.items.some((d) => d.metadata?.name === name)) {
      await createDeployment(name, 2);
      await env.core.patchNamespacedService({ namespace: ns.name, name, body: { spec: { selector: { app: name } } } }, mergePatch);
    }
  }
});

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategicPatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/**
 * One observation of "what the listener forwards to, and how many healthy targets that has". The listener is
 * read before and after the health: if it moved in between, the health read may describe a group the listener
 * had already left (and that is being drained), so the observation is taken again.
 */
/** The group the Service's listener (port 80) forwards to and its healthy count, and how many listeners the NLB has. */
async function observeListener(env: TestEnvironment, lbArn: string): Promise<{ tg: string; healthy: number; listeners: number }> {
  let listeners = 0;
  const forwardsTo = async () => {
    const all = (await env.aws.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
    listeners = all.length;
    return all.find((l) => l.Port === 80)?.DefaultActions?.[0]?.TargetGroupArn ?? '';
  };
  for (;;) {
    const tg = await forwardsTo();
    let healthy: number;
    try {
      const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
      healthy = (health.TargetHealthDescriptions ?? []).filter((d) => d.TargetHealth?.State === 'healthy').length;
    } catch (error) {
      if ((await forwardsTo()) === tg) throw error;
      continue;
    }
    if ((await forwardsTo()) === tg) return { tg, healthy, listeners };
  }
}
