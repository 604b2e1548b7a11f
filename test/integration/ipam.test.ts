import { CreateNetworkInterfaceCommand, DeleteNetworkInterfaceCommand, DescribeNetworkInterfacesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callsBetween } from '../../src/cloud/calls.ts';
import { EniTags } from '../../src/cloud/eni.ts';
import type { EniPool } from '../../src/controllers/ipam/crd.ts';
import { Annotations } from '../../src/core/annotations.ts';
import { IPAM_NODE_LABEL, POD_IPS_ANNOTATION } from '../../src/core/ipam/keys.ts';
import { INSTANCE_ID_ANNOTATION } from '../../src/core/nodes.ts';
import { connect, createKwokNode, createTestNamespace, deleteNodes, healthyTargets, uniqueName, waitFor, waitForLoadBalancer, type TestEnvironment } from '../../src/testing/index.ts';
import { startTestCluster, waitForEvent, type TestCluster } from './support/controller.ts';

const COOLDOWN_MS = 4_000;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// The ENI pool on two t3.small nodes (3 ENIs × 4 IPv4: 9 pod addresses each) against the emulator.
describe('ENI pool (IPAM)', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const nodes = [uniqueName('ipam-node'), uniqueName('ipam-node')];
  const testLabel = { 'cloud-provider-localstack/test-node': 'ipam' };

  const pods = async (app = 'web'): Promise<V1Pod[]> => (await env.core.listNamespacedPod({ namespace: ns.name, labelSelector: `app=${app}` })).items;
  const running = (list: V1Pod[]) => list.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  const pending = (list: V1Pod[]) => list.filter((p) => p.status?.phase === 'Pending' && !p.metadata?.deletionTimestamp);
  const podIp = (pod: V1Pod) => pod.metadata?.annotations?.[POD_IPS_ANNOTATION];
  const scale = (replicas: number) => env.apps.patchNamespacedDeploymentScale({ namespace: ns.name, name: 'web', body: { spec: { replicas } } }, mergePatch);
  const enipool = async (node: string) =>
    (await env.kubeconfig.makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: 'cloud-provider-localstack.io', version: 'v1alpha1', plural: 'enipools', name: node })) as EniPool;
  const instanceOf = async (node: string) =>
    waitFor(async () => (await env.core.readNode({ name: node })).metadata?.annotations?.[INSTANCE_ID_ANNOTATION], { description: `instance of ${node}` });
  const waitRunning = (count: number, timeoutMs = 60_000) =>
    waitFor(async () => {
      const list = await pods();
      return running(list).length === count && list;
    }, { description: `${count} running pods`, timeoutMs });

  /** The emulator's view of a node's ENIs, checked against the limits and the node's ENIPool status. */
  async function checkNode(node: string) {
    const instanceId = await instanceOf(node);
    const enis = (await env.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] }))).NetworkInterfaces ?? [];
    const secondary = enis.map((e) => (e.PrivateIpAddresses ?? []).filter((a) => !a.Primary).map((a) => a.PrivateIpAddress!));
    expect(enis.length).toBeLessThanOrEqual(3);
    for (const addresses of secondary) expect(addresses.length).toBeLessThanOrEqual(3);
    const status = (await enipool(node)).status!;
    expect(status.enis.map((e) => e.id).sort()).toEqual(enis.map((e) => e.NetworkInterfaceId).sort());
    expect(status.enis.flatMap((e) => e.addresses).sort()).toEqual(secondary.flat().sort());
    return { instanceId, addresses: new Set(secondary.flat()), status };
  }

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'ipam');
    for (const node of nodes) {
      await createKwokNode(env.core, node, { labels: { ...testLabel, [IPAM_NODE_LABEL]: 'enabled', 'node.kubernetes.io/instance-type': 't3.small' } });
    }
    cluster = await startTestCluster(env, {
      controllers: ['service', 'node', 'ipam'],
      ipam: { cooldownMs: COOLDOWN_MS },
      watchNamespace: ns.name,
      nodeSelector: 'cloud-provider-localstack/test-node=ipam',
    });
    await env.apps.createNamespacedDeployment({
      namespace: ns.name,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 0,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { nodeSelector: testLabel, terminationGracePeriodSeconds: 0, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080 }] }] },
          },
        },
      },
    });
  });

  afterAll(async () => {
    await ns?.remove();
    await deleteNodes(env.core, nodes);
    await cluster?.manager.idle();
    await cluster?.stop();
    await cluster?.sweep();
    env?.close();
  });

  it('each node gets its warm pool: the primary ENI filled (WARM_ENI_TARGET=1), limits from DescribeInstanceTypes', async () => {
    for (const node of nodes) {
      const status = await waitFor(async () => (await enipool(node).catch(() => undefined))?.status, { description: `ENIPool ${node}` });
      expect(status).toMatchObject({ instanceType: 't3.small', maxEnis: 3, ipv4PerEni: 4, maxPods: 11 });
      await waitFor(async () => (await enipool(node)).status!.warm === 3, { description: 'three warm addresses' });
    }
  });

  it('scaling past capacity: 18 pods start with unique VPC addresses matching the emulator, the rest wait with an event', async () => {
    const before = cluster.manager.aws.calls.snapshot();
    await scale(20);
    const list = await waitRunning(18);
    await waitFor(async () => pending(await pods()).length === 2, { description: 'two pods waiting' });
    const ips = running(list).map((p) => p.status!.podIP!);
    expect(new Set(ips).size).toBe(18);
    for (const pod of running(list)) expect(pod.status?.podIP).toBe(podIp(pod));
    for (const node of nodes) {
      const { addresses, status } = await checkNode(node);
      const onNode = running(list).filter((p) => p.spec?.nodeName === node);
      for (const pod of onNode) expect(addresses.has(pod.status!.podIP!)).toBe(true);
      expect(status.assigned).toBe(onNode.length);
    }
    const waiting = pending(await pods());
    const event = await waitForEvent(env, ns.name, waiting[0]!.metadata!.name!, 'FailedAssignIP');
    expect(event.message).toMatch(/at its limit of 3 ENIs × 3 addresses \(t3\.small/);
    const calls = callsBetween(before, cluster.manager.aws.calls.snapshot());
    console.info('EC2 calls while 18 pods got addresses:', JSON.stringify(Object.fromEntries(Object.entries(calls).filter(([k]) => k.startsWith('EC2:')))));
  });

  it('an IP-mode Service registers exactly the pods’ VPC addresses', async () => {
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: {
          name: 'web',
          // A deregistered address drains for the delay (300 s by default, as on AWS) and is not reused meanwhile.
          annotations: { [Annotations.targetType]: 'ip', [Annotations.targetGroupAttributes]: 'deregistration_delay.timeout_seconds=2' },
        },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
      },
    });
    const expected = running(await pods()).map((p) => `${podIp(p)}:8080`).sort();
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => healthyTargets(o.listeners[0]).length === 18);
    expect(healthyTargets(lb.listeners[0])).toEqual(expected);
  });

  it('a released address rests in cooldown, then goes to a waiting pod', async () => {
    const victim = running(await pods())[0]!;
    const ip = podIp(victim)!;
    await env.core.deleteNamespacedPod({ namespace: ns.name, name: victim.metadata!.name!, gracePeriodSeconds: 0 });
    const node = victim.spec!.nodeName!;
    await waitFor(async () => (await enipool(node)).status!.cooldown.some((c) => c.ip === ip), { description: `${ip} in cooldown`, timeoutMs: COOLDOWN_MS });
    expect((await pods()).filter((p) => podIp(p) === ip)).toEqual([]);
    const taker = await waitFor(async () => running(await pods()).find((p) => podIp(p) === ip), { description: `${ip} reused`, timeoutMs: 30_000 });
    expect(taker.metadata?.uid).not.toBe(victim.metadata?.uid);
  });

  it('a released address still registered in a target group is not reused until it is deregistered', async () => {
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => healthyTargets(o.listeners[0]).length === 18);
    const tgArn = lb.listeners[0]!.targetGroupArn;
    await cluster.manager.service!.queue.stop();
    const victim = running(await pods())[1]!;
    const ip = podIp(victim)!;
    await env.core.deleteNamespacedPod({ namespace: ns.name, name: victim.metadata!.name!, gracePeriodSeconds: 0 });
    await new Promise((resolve) => setTimeout(resolve, COOLDOWN_MS + 3_000));
    // Cooldown is over, but the Service controller (paused) has not deregistered it: nobody may have it.
    expect((await pods()).filter((p) => podIp(p) === ip)).toEqual([]);
    const health = await env.aws.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tgArn }));
    expect(health.TargetHealthDescriptions?.map((d) => d.Target?.Id)).toContain(ip);

    cluster.manager.service!.queue.start();
    await cluster.manager.service!.resync();
    await waitFor(async () => running(await pods()).find((p) => podIp(p) === ip), { description: `${ip} reused after deregistration`, timeoutMs: 30_000 });
  });

  it('a restart mid-scale keeps every assignment; cooldowns survive it; no address is on two pods', async () => {
    await scale(12);
    await waitFor(async () => (await pods()).length === 12, { description: 'scaled to 12' });
    const before = new Map(running(await pods()).map((p) => [p.metadata!.uid!, podIp(p)]));
    await scale(20);
    // A pod released just before the restart: its cooldown must outlive the process (ipamd forgets it: #1127).
    await waitRunning(12);
    const victim = running(await pods())[0]!;
    const ip = podIp(victim)!;
    const node = victim.spec!.nodeName!;
    await env.core.deleteNamespacedPod({ namespace: ns.name, name: victim.metadata!.name!, gracePeriodSeconds: 0 });
    await waitFor(async () => (await enipool(node)).status!.cooldown.some((c) => c.ip === ip), { description: `${ip} in cooldown`, timeoutMs: COOLDOWN_MS });
    before.delete(victim.metadata!.uid!);
    await cluster.restart();
    expect((await pods()).filter((p) => podIp(p) === ip)).toEqual([]);
    const list = await waitRunning(18);
    for (const pod of running(list)) if (before.has(pod.metadata!.uid!)) expect(podIp(pod)).toBe(before.get(pod.metadata!.uid!));
    const ips = running(list).map(podIp);
    expect(new Set(ips).size).toBe(ips.length);
    for (const node of nodes) {
      const { addresses, status } = await checkNode(node);
      expect(status.allocations.every((a) => addresses.has(a.ip))).toBe(true);
      // Every address is either a pod's or free: none lost.
      expect(status.assigned + status.warm + status.cooling).toBe(addresses.size);
    }
  });

  it('deleting pods frees capacity and the waiting pods start', async () => {
    await scale(10);
    await waitFor(async () => {
      const list = await pods();
      return list.length === 10 && running(list).length === 10;
    }, { description: '10 running pods', timeoutMs: 60_000 });
  });

  it('a leaked ENI of ours (unattached, past the grace period) is deleted; a foreign one is not', async () => {
    const subnet = env.network.privateSubnets[0]!.id;
    const ours = await env.aws.ec2.send(
      new CreateNetworkInterfaceCommand({
        SubnetId: subnet,
        TagSpecifications: [
          {
            ResourceType: 'network-interface',
            Tags: [
              { Key: EniTags.cluster, Value: cluster.name },
              { Key: EniTags.createdAt, Value: new Date(Date.now() - 3_600_000).toISOString() },
            ],
          },
        ],
      }),
    );
    const foreign = await env.aws.ec2.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet }));
    try {
      const deleted = await cluster.manager.ipam!.sweepLeakedEnis();
      expect(deleted).toEqual([ours.NetworkInterface!.NetworkInterfaceId]);
      const left = await env.aws.ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'network-interface-id', Values: [foreign.NetworkInterface!.NetworkInterfaceId!] }] }));
      expect(left.NetworkInterfaces).toHaveLength(1);
    } finally {
      await env.aws.ec2.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: foreign.NetworkInterface!.NetworkInterfaceId! }));
    }
  });
});
