import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agnhostDeployment,
  connect,
  createNetworkedNode,
  createTestNamespace,
  readinessSwitch,
  removeNamespaceThenNodes,
  uniqueName,
  waitFor,
  waitForNetworkedNodes,
  waitForReadyPods,
  type ReadinessSwitch,
  type TestEnvironment,
} from '../../src/testing/index.ts';
import { startTestCluster, type TestCluster } from './support/controller.ts';

// The node agent writes the kubelet's Events (src/devenv/vpc/agent/events.ts): what `kubectl describe` shows.
describe("the node agent writes the kubelet's Events", () => {
  let env: TestEnvironment;
  let cluster: TestCluster;
  let ns: { name: string; remove: () => Promise<void> };
  let readiness: ReadinessSwitch;
  let pod: V1Pod;
  const node = uniqueName('events-node');
  const testLabel = { 'cloud-provider-localstack/test-node': 'node-agent-events' };

  const podEvents = async (): Promise<CoreV1Event[]> =>
    (await env.core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${pod.metadata!.uid}` })).items;
  const readinessFailures = async () => (await podEvents()).filter((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Readiness probe failed:'));

  beforeAll(async () => {
    env = connect();
    readiness = readinessSwitch('cpl-events-unready');
    ns = await createTestNamespace(env.core, 'agent-events');
    await createNetworkedNode(env.core, node, { labels: testLabel });
    cluster = await startTestCluster(env, { controllers: ['node', 'ipam'], watchNamespace: ns.name, nodeSelector: 'cloud-provider-localstack/test-node=node-agent-events' });
    await waitForNetworkedNodes(env.core, [node]);
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('web', { nodeSelector: testLabel, ...readiness.probes }) });
    pod = (await waitForReadyPods(env.core, ns.name, 'app=web', 1, 120_000))[0]!;
  }, 240_000);

  afterAll(async () => {
    await removeNamespaceThenNodes(env.core, ns, [node]);
    await cluster?.stop();
    await cluster?.sweep();
    readiness?.remove();
    env?.close();
  });

  it('the Node: Starting kubelet, then NodeReady, from kubelet on the node', async () => {
    const events = await waitFor(
      async () => {
        const all = (await env.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.kind=Node,involvedObject.name=${node}` })).items;
        // kube-proxy says Starting too (source unset, reportingComponent kube-proxy): the kubelet's are the agent's.
        const items = all.filter((e) => e.source?.component === 'kubelet');
        return items.some((e) => e.reason === 'NodeReady') && items.some((e) => e.reason === 'Starting') && items;
      },
      { description: `Starting and NodeReady events of ${node}` },
    );
    const byReason = Object.fromEntries(events.map((e) => [e.reason, e]));
    expect(byReason.Starting).toMatchObject({ type: 'Normal', message: 'Starting kubelet.', source: { component: 'kubelet', host: node }, involvedObject: { kind: 'Node', uid: node } });
    expect(byReason.NodeReady).toMatchObject({ type: 'Normal', message: `Node ${node} status is now: NodeReady`, source: { component: 'kubelet', host: node } });
  });

  it("the pod's container: Created and Started, from kubelet on the node, naming the container", async () => {
    const events = await waitFor(async () => { const items = await podEvents(); return items.some((e) => e.reason === 'Started') && items; }, { description: 'a Started event' });
    const started = events.find((e) => e.reason === 'Started')!;
    expect(started).toMatchObject({
      type: 'Normal',
      message: 'Started container agnhost',
      source: { component: 'kubelet', host: node },
      reportingComponent: 'kubelet',
      reportingInstance: node,
      involvedObject: { kind: 'Pod', name: pod.metadata!.name, namespace: ns.name, fieldPath: 'spec.containers{agnhost}' },
    });
    expect(events.find((e) => e.reason === 'Created')).toMatchObject({ type: 'Normal', message: 'Created container: agnhost' });
    // The Scheduler's event is there too: the agent's sit beside it, as a kubelet's do.
    expect(events.some((e) => e.reason === 'Scheduled')).toBe(true);
  });

  it('a failing readiness probe: one Unhealthy Warning whose count grows (no new Event per failure)', async () => {
    readiness.unready(pod.metadata!.name!);
    const first = await waitFor(async () => { const [event] = await readinessFailures(); return event && event.count! >= 2 && event; }, { description: 'Unhealthy seen twice' });
    expect(first).toMatchObject({
      type: 'Warning',
      // The readiness command (`test ! -e <file>`) prints nothing: the kubelet's message ends with the colon.
      message: 'Readiness probe failed: ',
      source: { component: 'kubelet', host: node },
      involvedObject: { kind: 'Pod', name: pod.metadata!.name, fieldPath: 'spec.containers{agnhost}' },
    });
    const later = await waitFor(async () => { const [event] = await readinessFailures(); return event && event.count! > first.count! && event; }, { description: 'the Unhealthy count grows' });
    expect(later.metadata!.name).toBe(first.metadata!.name);
    expect(new Date(later.lastTimestamp!).getTime()).toBeGreaterThan(new Date(first.lastTimestamp!).getTime());
    expect(await readinessFailures()).toHaveLength(1);
    // And the pod is unready, as the Events say.
    await waitFor(async () => (await env.core.readNamespacedPod({ namespace: ns.name, name: pod.metadata!.name! })).status?.conditions?.find((c) => c.type === 'Ready')?.status === 'False', { description: 'pod unready' });
    readiness.ready(pod.metadata!.name!);
  });

  it('a failing liveness probe: Unhealthy, Killing (will be restarted), and BackOff once it keeps failing', async () => {
    // The switch's command as a liveness probe that gives up at the first failure.
    const livenessProbe = { ...readiness.probes.readinessProbe, failureThreshold: 1 };
    await env.apps.createNamespacedDeployment({ namespace: ns.name, body: agnhostDeployment('crash', { nodeSelector: testLabel, startupProbe: readiness.probes.startupProbe, readinessProbe: null, livenessProbe }) });
    const [crash] = await waitForReadyPods(env.core, ns.name, 'app=crash', 1, 120_000);
    readiness.unready(crash!.metadata!.name!);
    const events = await waitFor(
      async () => {
        const items = (await env.core.listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.uid=${crash!.metadata!.uid}` })).items;
        return items.some((e) => e.reason === 'BackOff') && items;
      },
      { description: 'a BackOff event', timeoutMs: 90_000 },
    );
    const byReason = (reason: string) => events.filter((e) => e.reason === reason && e.source?.component === 'kubelet');
    expect(byReason('Unhealthy').map((e) => e.message)).toContain('Liveness probe failed: ');
    expect(byReason('Killing')).toMatchObject([{ type: 'Normal', message: 'Container agnhost failed liveness probe, will be restarted' }]);
    expect(byReason('Killing')[0]!.count).toBeGreaterThanOrEqual(2);
    expect(byReason('BackOff')).toMatchObject([
      { type: 'Warning', message: `Back-off restarting failed container agnhost in pod ${crash!.metadata!.name}_${ns.name}(${crash!.metadata!.uid})` },
    ]);
    // Each restart starts the container again: the same Started Event, counted.
    expect(byReason('Started')).toHaveLength(1);
    expect(byReason('Started')[0]!.count).toBeGreaterThanOrEqual(2);
  });
});
