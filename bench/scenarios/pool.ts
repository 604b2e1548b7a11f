import { CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import { ENIPOOL_GROUP, ENIPOOL_PLURAL, ENIPOOL_VERSION, type EniPool } from '../../src/controllers/ipam/crd.ts';
import { POD_IPS_ANNOTATION } from '../../src/core/ipam/keys.ts';
import { waitFor } from '../../src/testing/index.ts';
import { createDeployment, watchNamespaced } from '../lib/kube.ts';
import { divided, latencyFigures, openWindow, percentile, round } from '../lib/measure.ts';
import { defineScenario } from '../lib/types.ts';

const INSTANCE_TYPE = 'm5.4xlarge'; // 8 ENIs × 30 IPv4: 232 pod addresses per node, so 200 pods fit on 4 with room

/**
 * Pods of one Deployment scheduled over 4 ENI-pool nodes whose pools are warm (WARM_ENI_TARGET=1, the
 * default: each node starts with its primary ENI's 29 secondary addresses free). Per pod, the bench's watch
 * notes when it first sees the pod bound to a node (spec.nodeName) and when it first sees its address
 * (the vpc.amazonaws.com/pod-ips annotation); both come from the same watch, so its delay cancels out.
 */
export default defineScenario({
  name: 'pool',
  description: `pods over 4 ENI-pool nodes (${INSTANCE_TYPE}) with a warm pool: scheduling → pod IP (p50/p99), EC2 calls per pod`,
  sizes: { smoke: { pods: 10, nodes: 4 }, default: { pods: 200, nodes: 4 } },
  async run(ctx, size) {
    const { env, namespace } = ctx;
    const nodes = await ctx.createNodes(size.nodes, { ipam: true, instanceType: INSTANCE_TYPE });
    const controller = await ctx.startController({ controllers: ['ipam'] });
    const custom = env.kubeconfig.makeApiClient(CustomObjectsApi);
    const pool = (name: string) => custom.getClusterCustomObject({ group: ENIPOOL_GROUP, version: ENIPOOL_VERSION, plural: ENIPOOL_PLURAL, name }) as Promise<EniPool>;
    const warmPools = async () => Promise.all(nodes.map(async (n) => (await pool(n.name).catch(() => undefined))?.status));
    await waitFor(async () => (await warmPools()).every((s) => (s?.warm ?? 0) > 0), { description: 'every node with a warm pool', timeoutMs: 120_000 });
    await controller.manager.idle();
    const before = await warmPools();

    const pods = watchNamespaced<V1Pod>(env, 'pods', namespace);
    const seen = new Map<string, { bound?: number; addressed?: number; running?: number; sameEvent?: boolean }>();
    pods.onChange((_kind, pod) => {
      const now = performance.now();
      const uid = pod.metadata?.uid ?? '';
      const entry = seen.get(uid) ?? {};
      if (pod.spec?.nodeName && entry.bound === undefined) entry.bound = now;
      if (pod.metadata?.annotations?.[POD_IPS_ANNOTATION] && entry.addressed === undefined) {
        entry.addressed = now;
        entry.sameEvent = entry.bound === now;
      }
      if (pod.status?.phase === 'Running' && entry.running === undefined) entry.running = now;
      seen.set(uid, entry);
    });
    try {
      await pods.synced;
      const window = openWindow(controller);
      const t0 = window.startedAt;
      await createDeployment(env, namespace, 'pool', size.pods, ctx.nodeLabels);
      await waitFor(() => [...seen.values()].filter((e) => e.addressed !== undefined && e.running !== undefined).length >= size.pods, {
        description: `${size.pods} pods with addresses, running`,
        timeoutMs: 600_000,
        intervalMs: 100,
      });
      const allAddressed = Math.max(...[...seen.values()].map((e) => e.addressed!));
      await controller.manager.idle();
      const calls = window.end();
      const after = await warmPools();
      const entries = [...seen.values()].filter((e) => e.bound !== undefined && e.addressed !== undefined);
      const ec2 = Object.fromEntries(Object.entries(calls.callsByOperation).filter(([k]) => k.startsWith('EC2:')));
      const ec2Calls = Object.values(ec2).reduce((a, b) => a + b, 0);
      const sum = (f: (s: NonNullable<(typeof after)[number]>) => number, list: typeof after) => list.reduce((a, s) => a + (s ? f(s) : 0), 0);
      return {
        pods: size.pods,
        instanceType: INSTANCE_TYPE,
        ...latencyFigures('boundToAddress', entries.map((e) => e.addressed! - e.bound!)),
        addressToRunningP50Ms: round(percentile(entries.filter((e) => e.running !== undefined).map((e) => e.running! - e.addressed!), 50)),
        podsBoundAndAddressedInOneWatchEvent: entries.filter((e) => e.sameEvent).length,
        allAddressedMs: round(allAddressed - t0),
        warmAddressesBefore: sum((s) => s.warm, before),
        addressesBefore: sum((s) => s.total, before),
        enisBefore: sum((s) => s.eniCount, before),
        addressesAfter: sum((s) => s.total, after),
        enisAfter: sum((s) => s.eniCount, after),
        ec2Calls,
        ec2CallsPerPod: round(ec2Calls / size.pods, 2),
        ec2CallsPerPodByOperation: divided(ec2, size.pods),
        calls: calls.calls,
        mutatingCalls: calls.mutatingCalls,
        callsByOperation: calls.callsByOperation,
        awsBusyMs: calls.awsBusyMs,
        notInAwsMs: calls.notInAwsMs,
        ipamReconciles: controller.processed.filter((p) => p.controller === 'ipam' && p.at >= t0).length,
      };
    } finally {
      pods.stop();
    }
  },
});
