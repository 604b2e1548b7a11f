import { setTimeout as sleep } from 'node:timers/promises';
import { PatchStrategy, setHeaderOptions, type V1Lease, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Annotations } from '../../src/core/annotations.ts';
import { IPAM_NODE_LABEL } from '../../src/core/ipam/keys.ts';
import { KWOK_NODE_LEASE_SECONDS } from '../../src/devenv/environment.ts';
import {
  connect,
  createKwokNode,
  createTestNamespace,
  deleteNodes,
  healthyTargets,
  isNodeReady,
  isPodReady,
  podTargets,
  uniqueName,
  waitFor,
  waitForLoadBalancer,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

/** How long the environment is left alone: past kube-controller-manager's node-monitor-grace-period (50 s) several times over. */
const QUIET_MS = 180_000;
const POLL_MS = 3_000;
const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** What kube-controller-manager's node lifecycle records when it gives up on a node (on the node and its pods). */
const DECAY_REASONS = ['NodeNotReady', 'TaintManagerEviction'];
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

// The environment must stay healthy when left alone, as a cluster of kubelets does: kwok renews a Lease per node
// (both kwok, for plain nodes, and kwok-vpc, for ENI-pool nodes), so the node lifecycle never marks a node
// NotReady nor its pods unready; and a pod that was marked unready gets Ready back, as a kubelet writes it back.
describe('the local environment left alone', () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  const testLabel = { 'cloud-provider-localstack/test-node': 'decay' };
  const nodeSets = {
    kwok: { nodes: [uniqueName('decay-node'), uniqueName('decay-node')], labels: {} },
    'kwok-vpc': { nodes: [uniqueName('decay-vpc'), uniqueName('decay-vpc')], labels: { [IPAM_NODE_LABEL]: 'enabled' } },
  } as const;
  const allNodes = [...nodeSets.kwok.nodes, ...nodeSets['kwok-vpc'].nodes];
  const setLabel = 'cloud-provider-localstack/decay-set';

  const pods = async (): Promise<V1Pod[]> => (await env.core.listNamespacedPod({ namespace: ns.name, labelSelector: 'app=web' })).items.filter((p) => !p.metadata?.deletionTimestamp);
  const leases = async (): Promise<Map<string, V1Lease>> =>
    new Map((await env.coordination.listNamespacedLease({ namespace: NODE_LEASE_NAMESPACE })).items.filter((l) => allNodes.includes(l.metadata!.name!)).map((l) => [l.metadata!.name!, l]));
  const endpoints = async () =>
    (await env.discovery.listNamespacedEndpointSlice({ namespace: ns.name, labelSelector: 'kubernetes.io/service-name=web' })).items.flatMap((s) => s.endpoints ?? []);
  /** Events of the node lifecycle about our nodes (namespace default) and pods (ours). */
  const decayEvents = async () => {
    const names = new Set([...allNodes, ...(await pods()).map((p) => p.metadata!.name!)]);
    const events = await Promise.all(DECAY_REASONS.map((reason) => env.core.listEventForAllNamespaces({ fieldSelector: `reason=${reason}` })));
    return events.flatMap((list) => list.items).filter((e) => names.has(e.involvedObject.name ?? ''));
  };

  beforeAll(async () => {
    env = connect();
    ns = await createTestNamespace(env.core, 'decay');
    for (const [set, { nodes, labels }] of Object.entries(nodeSets)) {
      for (const node of nodes) await createKwokNode(env.core, node, { labels: { ...testLabel, ...labels, [setLabel]: set } });
    }
    cluster = await startTestCluster(env, { controllers: ['service', 'node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=decay' });
    for (const set of Object.keys(nodeSets)) {
      await env.apps.createNamespacedDeployment({
        namespace: ns.name,
        body: {
          metadata: { name: `web-${set}` },
          spec: {
            replicas: 2,
            selector: { matchLabels: { app: 'web', set } },
            template: {
              metadata: { labels: { app: 'web', set } },
              spec: { nodeSelector: { [setLabel]: set }, terminationGracePeriodSeconds: 0, containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 8080, name: 'http' }] }] },
            },
          },
        },
      });
    }
    await env.core.createNamespacedService({
      namespace: ns.name,
      body: {
        metadata: { name: 'web', annotations: { [Annotations.targetType]: 'instance' } },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
      },
    });
    await waitFor(async () => {
      const list = await pods();
      return list.length === 4 && list.every(isPodReady);
    }, { description: 'four pods Ready on the two node sets', timeoutMs: 120_000 });
    await waitForLoadBalancer(env, ns.name, 'web', (lb) => healthyTargets(lb.listeners[0]).length === allNodes.length, { timeoutMs: 120_000 });
  });

  afterAll(async () => {
    await cluster?.manager.idle();
    await cluster?.stop();
    await ns?.remove();
    await deleteNodes(env.core, allNodes);
    await cluster?.sweep();
    env?.close();
  });

  it('after three minutes every node is Ready with a Lease renewed all along, every pod and endpoint ready, no NodeNotReady', async () => {
    const eventsBefore = await decayEvents();
    const renewTimes = new Map<string, Set<number>>(allNodes.map((n) => [n, new Set<number>()]));
    const unready: string[] = [];
    const deadline = Date.now() + QUIET_MS;
    while (Date.now() < deadline) {
      const [nodes, current, list] = await Promise.all([env.core.listNode({ labelSelector: 'cloud-provider-localstack/test-node=decay' }), leases(), pods()]);
      const at = new Date().toISOString();
      for (const node of nodes.items) if (!isNodeReady(node)) unready.push(`${at} node ${node.metadata!.name}`);
      for (const pod of list) if (!isPodReady(pod)) unready.push(`${at} pod ${pod.metadata!.name}`);
      for (const [name, lease] of current) {
        const renewed = lease.spec?.renewTime;
        if (renewed) renewTimes.get(name)!.add(new Date(renewed).getTime());
      }
      await sleep(POLL_MS);
    }

    const eventsAfter = await decayEvents();
    const final = await leases();
    const intervals = allNodes.flatMap((node) => {
      const times = [...renewTimes.get(node)!].sort((a, b) => a - b);
      return times.slice(1).map((time, i) => time - times[i]!);
    }).sort((a, b) => a - b);
    console.info(
      `node leases over ${QUIET_MS / 1000} s: ${final.size} of ${allNodes.length}, ${intervals.length} renewals seen, interval median ${intervals[intervals.length >> 1]} ms, max ${intervals.at(-1)} ms;`,
      `unready observations ${unready.length}; node-lifecycle events (${DECAY_REASONS.join('/')}) before the wait ${eventsBefore.length}, after ${eventsAfter.length}`,
    );

    // Never seen unready, not even for one poll.
    expect(unready).toEqual([]);
    const nodes = await env.core.listNode({ labelSelector: 'cloud-provider-localstack/test-node=decay' });
    expect(nodes.items.map((n) => [n.metadata!.name, isNodeReady(n)]).sort()).toEqual(allNodes.map((n) => [n, true]).sort());

    // A Lease per node, from the kwok that plays it, renewed many times and never let lapse.
    for (const node of allNodes) {
      const lease = final.get(node);
      expect(lease, `Lease kube-node-lease/${node}`).toBeDefined();
      expect(lease!.spec?.holderIdentity).toBeTruthy();
      expect(lease!.spec?.leaseDurationSeconds).toBe(KWOK_NODE_LEASE_SECONDS);
      expect(lease!.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: node });
      expect(new Date(lease!.spec!.renewTime!).getTime() + KWOK_NODE_LEASE_SECONDS * 1000).toBeGreaterThan(Date.now());
      expect(renewTimes.get(node)!.size, `renewals of ${node} seen`).toBeGreaterThan(QUIET_MS / (KWOK_NODE_LEASE_SECONDS * 1000));
    }
    expect(intervals.at(-1)).toBeLessThan(KWOK_NODE_LEASE_SECONDS * 1000);

    // Every pod Ready, every endpoint of the Service ready.
    const list = await pods();
    expect(list.map((p) => [p.metadata!.name, isPodReady(p)])).toEqual(list.map((p) => [p.metadata!.name, true]));
    const slices = await endpoints();
    expect(slices.map((e) => e.targetRef?.name).sort()).toEqual(list.map((p) => p.metadata!.name).sort());
    expect(slices.filter((e) => e.conditions?.ready !== true)).toEqual([]);

    expect(eventsAfter.map((e) => `${e.reason} ${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)).toEqual([]);
  }, QUIET_MS + 120_000);

  it('after the wait, flipping the Service to ip mode moves the listener to the pods', async () => {
    await env.core.patchNamespacedService({ namespace: ns.name, name: 'web', body: { metadata: { annotations: { [Annotations.targetType]: 'ip' } } } }, mergePatch);
    const expected = await podTargets(env, ns.name, 'app=web', 8080);
    expect(expected).toHaveLength(4);
    const lb = await waitForLoadBalancer(env, ns.name, 'web', (o) => o.listeners[0]?.targetType === 'ip' && healthyTargets(o.listeners[0]).length === expected.length);
    expect(healthyTargets(lb.listeners[0])).toEqual(expected);
  });

  it('a pod the node lifecycle marked unready (only its Ready condition, as MarkPodsNotReady does) is Ready again, on both kwok', async () => {
    const list = await pods();
    const victims = Object.keys(nodeSets).map((set) => list.find((p) => p.metadata?.labels?.set === set)!);
    for (const victim of victims) {
      const pod = await env.core.readNamespacedPod({ namespace: ns.name, name: victim.metadata!.name! });
      const ready = pod.status!.conditions!.find((c) => c.type === 'Ready')!;
      ready.status = 'False';
      ready.lastTransitionTime = new Date();
      const marked = await env.core.replaceNamespacedPodStatus({ namespace: ns.name, name: pod.metadata!.name!, body: pod });
      expect(isPodReady(marked)).toBe(false);
    }
    for (const victim of victims) {
      const name = victim.metadata!.name!;
      await waitFor(async () => isPodReady(await env.core.readNamespacedPod({ namespace: ns.name, name })), { description: `pod ${name} Ready again` });
      await waitFor(async () => (await endpoints()).some((e) => e.targetRef?.name === name && e.conditions?.ready === true), { description: `endpoint of ${name} ready again` });
    }
  });
});
