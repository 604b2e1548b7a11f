/**
 * Health checks through the local VPC, end to end (issue 11): the data plane (the environment's `nlb` component,
 * in the router's namespace) checks the targets of every NLB group in use from the NLB's addresses and pushes
 * what it measures to the emulator. An externalTrafficPolicy=Local Service has instance targets checked over
 * HTTP on its healthCheckNodePort (/healthz, answered by each node's kube-proxy: 200 with a ready local pod,
 * 503 without), so a pod failing its readiness takes its node out of rotation by the NLB's own health check,
 * while the node stays registered: DescribeTargetHealth says unhealthy / Target.FailedHealthChecks.
 */
import { DescribeLoadBalancersCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestNamespace,
  isPodReady,
  loadBalancerServiceBody,
  readinessSwitch,
  removeNamespaceThenNodes,
  uniqueName,
  vpcExec,
  waitFor,
  waitForNetworkedNodes,
  type ReadinessSwitch,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { instanceIdOf } from '../../src/core/nodes.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';
import { Annotations } from '../../src/core/annotations.ts';


describe('NLB health checks through the VPC', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('hc-node'), uniqueName('hc-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'nlb-health' };
  // Readiness the test turns off for one pod.
  let readiness: ReadinessSwitch;
  const instanceOf = new Map<string, string>(); // node name → instance id (the target's id)
  let dnsName = '';
  let groupArn = '';
  /** Every state each target showed, in order, from the moment the group existed. */
  const history = new Map<string, string[]>();

  const states = async (): Promise<Map<string, string>> => {
    const found = (await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: groupArn }))).TargetHealthDescriptions ?? [];
    const now = new Map(found.map((d) => [d.Target!.Id!, [d.TargetHealth!.State, d.TargetHealth!.Reason].filter(Boolean).join('/')]));
    for (const [id, state] of now) {
      const seen = history.get(id) ?? [];
      if (seen.at(-1) !== state) seen.push(state);
      history.set(id, seen);
    }
    return now;
  };
  const waitForStates = (wanted: Record<string, string>, description: string) =>
    waitFor(
      async () => {
        const now = await states();
        return Object.entries(wanted).every(([node, state]) => now.get(instanceOf.get(node)!) === state);
      },
      { description, timeoutMs: 120_000, intervalMs: 250 },
    );
  /** `count` GETs of /hostname through the NLB from the bastion (a new connection each). */
  const hostnamesThrough = async (count: number): Promise<string[]> =>
    (await vpcExec(['sh', '-c', `for i in $(seq ${count}); do curl -sS -m 2 "http://${dnsName}/hostname" 2>&1 || printf ERR; echo; done`], { timeoutMs: 120_000 })).stdout
      .trim()
      .split('\n');
  const podOn = async (node: string): Promise<V1Pod> =>
    waitFor(
      async () => {
        const pods = (await env.core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=web' })).items;
        return pods.find((p) => p.spec?.nodeName === node && !p.metadata?.deletionTimestamp && isPodReady(p));
      },
      { description: `a ready web pod on ${node}`, timeoutMs: 180_000 },
    );

  beforeAll(async () => {
    env = connect();
    readiness = readinessSwitch('cpl-hc-unready');
    ns = await createTestNamespace(env.core, 'nlb-health');
    for (const name of nodes) await createNetworkedNode(env.core, name, { labels: testLabel });
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=nlb-health' });
    await waitForNetworkedNodes(env.core, nodes);
    for (const [index, node] of nodes.entries()) {
      const body = agnhostDeployment(`web-${index}`, { labels: { app: 'web', pin: String(index) }, nodeName: node, ...readiness.probes });
      await env.apps.createNamespacedDeployment({ namespace: ns.name, body });
    }
    for (const node of nodes) await podOn(node);
    for (const node of nodes) {
      instanceOf.set(node, await waitFor(async () => instanceIdOf(await env.core.readNode({ name: node })), { description: `${node}'s instance` }));
    }
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: loadBalancerServiceBody('local', {
        annotations: {
          [Annotations.scheme]: 'internal',
          [Annotations.targetType]: 'instance',
          // One client's cached DNS answer (one LB address) reaches both nodes, whatever their zones.
          [Annotations.attributes]: 'load_balancing.cross_zone.enabled=true',
        },
        selector: { app: 'web' },
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
        spec: { externalTrafficPolicy: 'Local' },
      }),
    });
    dnsName = await waitFor(async () => (await env.core.readNamespacedService({ name: 'local', namespace: ns.name })).status?.loadBalancer?.ingress?.[0]?.hostname, {
      description: 'Service local gets its NLB',
      timeoutMs: 120_000,
    });
  }, 400_000);

  afterAll(async () => {
    await removeNamespaceThenNodes(env.core, ns, nodes);
    await cluster?.stop();
    await cluster?.sweep();
    readiness?.remove();
    env?.close();
  }, 180_000);

  it('new targets are initial before healthy, checked over HTTP on the healthCheckNodePort', async () => {
    const lb = (await env.aws.elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers!.find((l) => l.DNSName === dnsName)!;
    const group = (await env.aws.elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lb.LoadBalancerArn }))).TargetGroups![0]!;
    groupArn = group.TargetGroupArn!;
    const service = await env.core.readNamespacedService({ name: 'local', namespace: ns.name });
    expect([group.HealthCheckProtocol, group.HealthCheckPort, group.HealthCheckPath]).toEqual(['HTTP', String(service.spec!.healthCheckNodePort), '/healthz']);
    await waitFor(async () => (await states()).size === 2, { description: 'both nodes registered', timeoutMs: 120_000 });
    await waitForStates({ [nodes[0]!]: 'healthy', [nodes[1]!]: 'healthy' }, 'both nodes healthy');
    for (const node of nodes) {
      const seen = history.get(instanceOf.get(node)!)!;
      // 2 passed checks 10 s apart (eTP=Local: 10 s interval, healthy threshold 2) before healthy: never healthy at once.
      expect(seen.at(-1)).toBe('healthy');
      expect(seen[0]).toMatch(/^initial\/Elb\.(RegistrationInProgress|InitialHealthChecking)$/);
      expect(seen.filter((state) => !state.startsWith('initial/'))).toEqual(['healthy']);
    }
    const answers = new Set(await hostnamesThrough(20));
    expect([...answers].sort()).toEqual([(await podOn(nodes[0]!)).metadata!.name!, (await podOn(nodes[1]!)).metadata!.name!].sort());
  }, 300_000);

  it("a pod failing readiness takes its node out of rotation by the NLB's health check (Target.FailedHealthChecks), and back when it recovers", async () => {
    const [failing, serving] = [await podOn(nodes[0]!), await podOn(nodes[1]!)];
    readiness.unready(failing.metadata!.name!);
    await waitForStates({ [nodes[0]!]: 'unhealthy/Target.FailedHealthChecks', [nodes[1]!]: 'healthy' }, `${nodes[0]} unhealthy by its failed checks`);
    // Out of rotation: every new connection goes to the node still healthy.
    expect(new Set(await hostnamesThrough(20))).toEqual(new Set([serving.metadata!.name!]));

    readiness.ready(failing.metadata!.name!);
    await waitForStates({ [nodes[0]!]: 'healthy', [nodes[1]!]: 'healthy' }, `${nodes[0]} healthy again`);
    await waitFor(async () => new Set(await hostnamesThrough(20)).size === 2, { description: 'both pods answer through the NLB again', timeoutMs: 60_000 });
  }, 300_000);
});
